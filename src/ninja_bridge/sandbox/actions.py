"""Actions beyond CRUD: `POST /{entity}/bulk`, `GET /{invoices|quotes|credits}/{id}/{action}`, `POST /emails`."""

from __future__ import annotations

import orjson
from aiohttp import web

from ninja_bridge.sandbox import billing, operations
from ninja_bridge.sandbox.entities import ENTITIES
from ninja_bridge.sandbox.errors import ValidationErrors, message
from ninja_bridge.sandbox.files import pdf_download
from ninja_bridge.sandbox.protocol import (
    entity_of, item, json_response, list_response, read_payload, refuse_repeated_write, require_password,
    store_of,
)
from ninja_bridge.sandbox.store import Record, SandboxStore

# Bulk actions each controller validates with an `in:` rule; the other controllers accept any string.
BULK_ACTIONS: dict[str, tuple[str, ...]] = {
    "clients": ("archive", "restore", "delete", "template", "assign_group", "bulk_update"),
    "products": ("archive", "restore", "delete", "set_tax_id"),
    "expenses": ("archive", "restore", "delete", "bulk_categorize"),
    "quotes": ("template", "convert_to_invoice", "convert_to_project", "email", "bulk_download", "bulk_print",
               "clone_to_invoice", "approve", "download", "restore", "archive", "delete", "send_email",
               "mark_sent"),
    "credits": ("archive", "restore", "delete", "email", "bulk_download", "bulk_print", "mark_paid",
                "clone_to_credit", "history", "mark_sent", "download", "send_email", "template"),
    "recurring_invoices": ("archive", "restore", "delete", "increase_prices", "update_prices", "start", "stop",
                           "send_now", "set_payment_link"),
}
# Bulk FormRequests with `ids` required, and those that also check every id exists (Rule::exists).
BULK_IDS_REQUIRED = frozenset({"clients", "credits", "expenses", "invoices", "payments", "products", "projects",
                               "quotes", "recurring_invoices", "tasks", "vendors", "webhooks"})
BULK_IDS_MUST_EXIST = frozenset({"clients", "credits", "expenses", "products", "recurring_invoices"})
# Entities with `GET /{entity}/{id}/{action}` routes (and PDFs).
DOCUMENT_ACTIONS = ("invoices", "quotes", "credits")
# clone_* actions answer an unsaved copy (no id, no number) of the target type.
CLONE_TARGETS = {"clone_to_invoice": "invoices", "clone_to_quote": "quotes", "clone_to_credit": "credits"}
# POST /emails `entity` values (short names or App\Models\X class names) -> tables.
EMAIL_ENTITIES = {"invoice": "invoices", "quote": "quotes", "credit": "credits",
                  "recurring_invoice": "recurring_invoices", "payment": "payments"}


async def bulk_action(request: web.Request) -> web.StreamResponse:
    """POST /{entity}/bulk {"action", "ids"}: acts, then answers the affected rows as a paginated list."""
    entity = entity_of(request)
    if entity.name == "users":
        require_password(request)
    store = store_of(request)
    payload = await read_payload(request)
    action = payload.get("action")
    ids = payload.get("ids")
    if entity.name == "invoices":
        refuse_repeated_write(request, "bulk", action, orjson.dumps(ids).decode())
    errors = ValidationErrors()
    if not action or not isinstance(action, str):
        errors.required("action")
    elif entity.name in BULK_ACTIONS and action not in BULK_ACTIONS[entity.name]:
        errors.invalid("action")
    if entity.name in BULK_IDS_REQUIRED and not ids:
        errors.required("ids")
    elif ids is not None and not isinstance(ids, list):
        errors.not_array("ids")
    keys = bulk_keys(store, ids if isinstance(ids, list) else [])
    rows = [row for row in (store.table(entity.name).get(key) for key in keys) if row is not None]
    if entity.name in BULK_IDS_MUST_EXIST and ids and len(rows) < len(set(map(str, ids))):
        errors.invalid("ids")
    errors.raise_if_any()
    rows = sorted({row["id"]: row for row in rows}.values(), key=lambda row: row["id"])
    if entity.name == "invoices" and not rows:
        return json_response({"message": "No Invoices Found"})
    if action == "download" and entity.name in DOCUMENT_ACTIONS and rows:
        return await pdf_download(request, entity, rows[0])
    if action in ("bulk_download", "template"):
        return json_response({"message": "Successfully sent message"})
    if action in ("increase_prices", "update_prices"):
        return json_response({"message": "Update in progress."})
    for row in rows:
        if entity.name == "documents":
            continue  # v5 only knows bulk `download` for documents (an emailed zip)
        apply_bulk(store, entity.name, row, action)
    return list_response(request, entity, rows)


def bulk_keys(store: SandboxStore, ids: list) -> list[int | None]:
    """MakesHash::transformKeys decodes every bulk id whatever its JSON type, so integers match nothing."""
    return [store.codec.decode(str(raw)) if isinstance(raw, (str, int)) and not isinstance(raw, bool) else None
            for raw in ids]


def apply_bulk(store: SandboxStore, kind: str, record: Record, action: str) -> None:
    if action in operations.LIFECYCLE_ACTIONS:
        operations.LIFECYCLE_ACTIONS[action](store, kind, record)
    elif kind in DOCUMENT_ACTIONS and action == "mark_sent":
        billing.mark_sent(store, kind, record)
    elif kind in ("invoices", "credits") and action == "mark_paid":
        if not record["is_deleted"] and record["status_id"] not in (billing.PAID, billing.CANCELLED):
            billing.mark_paid(store, kind, record, store.owner_user_key)
    elif kind in DOCUMENT_ACTIONS and action in ("email", "send_email"):
        operations.email(store, kind, record)
    elif kind == "invoices" and action == "cancel":
        billing.cancel_invoice(store, record)
    elif kind == "quotes" and action == "approve":
        if record["status_id"] in (billing.DRAFT, billing.SENT):
            operations.approve_quote(store, record)
    elif kind == "quotes" and action in ("convert", "convert_to_invoice") and not record.get("invoice_id"):
        operations.convert_quote(store, record)
    elif kind == "recurring_invoices" and action in ("start", "stop"):
        state = billing.RECURRING_ACTIVE if action == "start" else billing.RECURRING_PAUSED
        operations.set_recurring_state(store, record, state)
    elif kind == "recurring_invoices" and action == "send_now":
        invoice = operations.copy_to_invoice(store, kind, record)
        invoice["recurring_id"] = record["id"]
        operations.email(store, "invoices", invoice)


async def document_action(request: web.Request) -> web.StreamResponse:
    """GET /{invoices|quotes|credits}/{id}/{action}."""
    entity = entity_of(request)
    store = store_of(request)
    kind = entity.name
    record = operations.find_by_path_id(store, entity, request.match_info["id"])
    action = request.match_info["action"]
    if action in operations.LIFECYCLE_ACTIONS:
        operations.LIFECYCLE_ACTIONS[action](store, kind, record)
    elif action == "mark_sent":
        billing.mark_sent(store, kind, record)
    elif action == "download":
        return await pdf_download(request, entity, record)
    elif action in ("email", "send_email"):
        operations.email(store, kind, record)
        # The wording differs per controller: QuoteController answers with texts.sent_message.
        return json_response({"message": "Successfully sent message" if kind == "quotes" else "email sent"})
    elif action == "mark_paid" and kind in ("invoices", "credits"):
        billing.mark_paid(store, kind, record, store.owner_user_key)
    elif action == "cancel" and kind == "invoices":
        billing.cancel_invoice(store, record)
        return web.Response(status=200)  # v5 forgets the `return` here: an empty body
    elif action == "approve" and kind == "quotes":
        operations.approve_quote(store, record)
    elif action in ("convert", "convert_to_invoice") and kind == "quotes":
        invoice = operations.convert_quote(store, record)
        return item(request, ENTITIES["invoices"], invoice)
    elif action in CLONE_TARGETS and (kind, action) != ("credits", "clone_to_quote"):
        target = ENTITIES[CLONE_TARGETS[action]]
        return item(request, target, operations.unsaved_clone(target, record))
    elif action in ("history", "delivery_note"):
        return web.Response(status=200)  # v5 falls through these cases without answering
    else:
        raise message(400, f"The requested action {action} is not available.")
    return item(request, entity, record)


async def send_email(request: web.Request) -> web.Response:
    """POST /emails {entity, entity_id, template}: 'sends' and answers the entity."""
    store = store_of(request)
    payload = await read_payload(request)
    errors = ValidationErrors()
    raw_entity = str(payload.get("entity") or "")
    short_name = raw_entity.rsplit("\\", 1)[-1].lower().replace("recurringinvoice", "recurring_invoice")
    kind = EMAIL_ENTITIES.get(short_name)
    if not raw_entity:
        errors.required("entity")
    elif kind is None:
        errors.invalid("entity")
    if payload.get("template") in (None, ""):
        errors.required("template")
    record = store.table(kind).get(store.decode(payload.get("entity_id"))) if kind else None
    if payload.get("entity_id") in (None, ""):
        errors.required("entity_id")
    elif kind is not None and record is None:
        errors.invalid("entity_id")
    errors.raise_if_any()
    if kind in DOCUMENT_ACTIONS:
        operations.email(store, kind, record)
    return item(request, ENTITIES[kind], record)
