"""The aiohttp application: v5's routes under /api/v1, its auth, envelopes and error shapes."""

from __future__ import annotations

import logging
import warnings
from typing import Any, Awaitable, Callable

import orjson
from aiohttp import web

from ninja_bridge.sandbox import account, billing, operations, webhooks
from ninja_bridge.sandbox.entities import ENTITIES, ROUTED_ENTITIES, Entity, parse_includes, render
from ninja_bridge.sandbox.errors import (
    HTML_METHOD_NOT_ALLOWED, HTML_NOT_FOUND, REDIRECT_BACK, ApiError, ValidationErrors, invalid_include,
    invalid_token, message, method_not_supported, route_not_found, server_error,
)
from ninja_bridge.sandbox.listing import paginate, select
from ninja_bridge.sandbox.pdf import build_pdf, stream_bytes
from ninja_bridge.sandbox.store import Record, SandboxStore

log = logging.getLogger(__name__)

API = "/api/v1"
API_VERSION_HEADERS = {"X-Api-Version": "5.0.16", "X-App-Version": "5.10.17"}
MAX_UPLOAD_BYTES = 100 * 1024 * 1024  # v5 allows 100,000 KB per document

UPLOADABLE = ("clients", "invoices", "quotes", "credits", "recurring_invoices", "payments", "products",
              "projects", "tasks", "expenses", "vendors")

# Bulk actions each controller validates with an `in:` rule; others accept any string.
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
DOCUMENT_ACTIONS = ("invoices", "quotes", "credits")
# clone_* actions answer an unsaved copy (no id, no number) of the target type.
CLONE_TARGETS = {"clone_to_invoice": "invoices", "clone_to_quote": "quotes", "clone_to_credit": "credits"}
EMAIL_ENTITIES = {"invoice": "invoices", "quote": "quotes", "credit": "credits",
                  "recurring_invoice": "recurring_invoices", "payment": "payments"}

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


# ---------------------------------------------------------------------------------------------
# Helpers


def json_response(body: Any, status: int = 200) -> web.Response:
    return web.Response(body=orjson.dumps(body), status=status, content_type="application/json",
                        headers=API_VERSION_HEADERS)


def store_of(request: web.Request) -> SandboxStore:
    return request.app["store"]


def entity_of(request: web.Request) -> Entity:
    return ENTITIES[request.match_info["entity"]]


async def read_payload(request: web.Request) -> dict:
    """The request input: a JSON object, or form fields. Malformed JSON is a 400."""
    if request.content_type in ("application/x-www-form-urlencoded", "multipart/form-data"):
        form = await request.post()
        return {key: value for key, value in form.items() if isinstance(value, str)}
    raw = await request.read()
    if not raw.strip():
        return {}
    try:
        payload = orjson.loads(raw)
    except orjson.JSONDecodeError:
        raise message(400, "Malformed JSON: the request body could not be decoded.") from None
    return payload if isinstance(payload, dict) else {}


def item(request: web.Request, entity: Entity, record: Record) -> web.Response:
    includes = parse_includes(request.query.get("include"))
    return json_response({"data": render(store_of(request), entity, record, includes)})


def list_response(request: web.Request, entity: Entity, rows: list[Record]) -> web.Response:
    includes = parse_includes(request.query.get("include"))
    for name in includes:
        if name not in entity.valid_relations:
            raise invalid_include(name)
    page_rows, meta = paginate(request, rows)
    store = store_of(request)
    return json_response({"data": [render(store, entity, row, includes) for row in page_rows], "meta": meta})


def refuse_writes_to(entity: Entity) -> None:
    # Users are managed through password-protected routes the sandbox does not emulate.
    if entity.name == "users":
        raise method_not_supported()


# ---------------------------------------------------------------------------------------------
# Middlewares


@web.middleware
async def error_middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
    """Every failure leaves as v5 would send it; nothing escapes as a Python traceback."""
    try:
        return await handler(request)
    except ApiError as error:
        return error_response(request, error)
    except web.HTTPMethodNotAllowed:
        return error_response(request, method_not_supported())
    except web.HTTPNotFound:
        return json_response(route_not_found().body, 404)  # v5's fallback route answers JSON to anyone
    except web.HTTPException as error:
        if error.status < 400:
            raise
        return json_response({"message": error.reason}, error.status)
    except Exception:
        log.exception("sandbox handler failed: %s %s", request.method, request.path)
        return error_response(request, server_error())


def expects_json(request: web.Request) -> bool:
    """Laravel's Request::expectsJson(): an XHR accepting anything, or a JSON Accept header."""
    accept = request.headers.get("Accept", "")
    first_type = accept.split(",")[0].strip()
    wants_json = "/json" in first_type or "+json" in first_type
    accepts_anything = not accept.strip() or "*/*" in accept or accept.strip() == "*"
    is_ajax = request.headers.get("X-Requested-With") == "XMLHttpRequest"
    return (is_ajax and accepts_anything) or wants_json


def error_response(request: web.Request, error: ApiError) -> web.Response:
    if error.without_json is None or expects_json(request):
        return json_response(error.body, error.status)
    if error.without_json == REDIRECT_BACK:
        # A failed FormRequest redirects "back": to the Referer, else the application root.
        back = request.headers.get("Referer") or f"{request.scheme}://{request.host}/"
        return web.Response(status=302, headers={"Location": back}, content_type="text/html",
                            text=f'<meta http-equiv="refresh" content="0;url={back}" />Redirecting to {back}.')
    status, title = {HTML_NOT_FOUND: (404, "Not Found"), HTML_METHOD_NOT_ALLOWED: (405, "Method Not Allowed")}.get(
        error.without_json, (500, "Server Error"))
    return web.Response(status=status, content_type="text/html",
                        text=f"<!DOCTYPE html><html><head><title>{title}</title></head>"
                             f"<body><div>{status} | {title}</div></body></html>")


@web.middleware
async def token_middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
    """X-API-TOKEN on every matched /api/v1 route but login; unknown routes 404 before auth."""
    unmatched = request.match_info.http_exception is not None
    if not unmatched and request.path != f"{API}/login":
        if request.headers.get("X-API-TOKEN") != store_of(request).token:
            raise invalid_token()
    return await handler(request)


# ---------------------------------------------------------------------------------------------
# Resource handlers


async def list_records(request: web.Request) -> web.Response:
    entity = entity_of(request)
    store = store_of(request)
    return list_response(request, entity, select(store, entity, store.table(entity.name), request.query))


async def show_record(request: web.Request) -> web.Response:
    entity = entity_of(request)
    record = operations.find_by_path_id(store_of(request), entity, request.match_info["id"])
    return item(request, entity, record)


async def blank_record(request: web.Request) -> web.Response:
    """GET /{entity}/create: the unsaved factory entity."""
    entity = entity_of(request)
    return item(request, entity, {**operations.blank_record(entity), "id": None})


async def create_record(request: web.Request) -> web.StreamResponse:
    entity = entity_of(request)
    refuse_writes_to(entity)
    if entity.name == "documents":
        return web.Response(status=200)  # v5's DocumentController::store is an empty method
    store = store_of(request)
    raw_payload = await read_payload(request)
    if entity.name == "payments":
        refuse_repeated_write(request, "payment", raw_payload.get("amount", 0), raw_payload.get("client_id", ""))
    payload = operations.decode_body(store, entity, raw_payload)
    record = operations.create(store, entity.name, payload)
    if entity.name == "invoices":
        run_triggered_actions(request, store, record)
    return item(request, entity, record)


def run_triggered_actions(request: web.Request, store: SandboxStore, invoice: Record) -> None:
    """Invoice create/update query flags (?mark_sent=true, ?paid=true, ?amount_paid=, ?send_email=true)."""
    query = request.query
    if query.get("mark_sent") == "true":
        billing.mark_sent(store, "invoices", invoice)
    if query.get("amount_paid"):
        amount = billing.to_float(query["amount_paid"])
        if amount > 0:
            operations.create(store, "payments", {
                "client_id": invoice["client_id"], "invoices": [{"invoice_id": invoice["id"], "amount": amount}],
            })
    if query.get("paid") == "true" and invoice["balance"] > 0:
        billing.mark_paid(store, "invoices", invoice, store.owner_user_key)
    if query.get("send_email") == "true":
        operations.email(store, "invoices", invoice)


async def update_record(request: web.Request) -> web.Response:
    entity = entity_of(request)
    refuse_writes_to(entity)
    store = store_of(request)
    record = operations.find_by_path_id(store, entity, request.match_info["id"])
    payload = operations.decode_body(store, entity, await read_payload(request))
    operations.update(store, entity.name, record, payload)
    if entity.name == "invoices":
        run_triggered_actions(request, store, record)
    return item(request, entity, record)


async def delete_record(request: web.Request) -> web.Response:
    entity = entity_of(request)
    refuse_writes_to(entity)
    store = store_of(request)
    record = operations.find_by_path_id(store, entity, request.match_info["id"])
    if entity.name == "documents":
        store.table("documents").remove(record["id"])
        store.emit("delete", "documents", record)
        return json_response({"message": "Success"})
    operations.delete(store, entity.name, record)
    return item(request, entity, record)


async def bulk_action(request: web.Request) -> web.StreamResponse:
    """POST /{entity}/bulk {"action", "ids"}: acts, then answers the affected rows as a paginated list."""
    entity = entity_of(request)
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


def refuse_repeated_write(request: web.Request, *parts: object) -> None:
    """v5 refuses the same payment or invoice bulk request from the same IP within one second."""
    fingerprint = "|".join([str(request.remote), *map(str, parts)])
    if store_of(request).is_repeat(fingerprint):
        raise message(400, "Duplicate request")


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
        cancel_invoice(store, record)
    elif kind == "quotes" and action == "approve":
        if record["status_id"] in (billing.DRAFT, billing.SENT):
            operations.approve_quote(store, record)
    elif kind == "quotes" and action == "convert_to_invoice":
        operations.convert_quote(store, record)
    elif kind == "recurring_invoices" and action in ("start", "stop"):
        state = billing.RECURRING_ACTIVE if action == "start" else billing.RECURRING_PAUSED
        operations.set_recurring_state(store, record, state)
    elif kind == "recurring_invoices" and action == "send_now":
        invoice = operations.copy_to_invoice(store, kind, record)
        invoice["recurring_id"] = record["id"]
        operations.email(store, "invoices", invoice)
    # Anything else is ignored, as v5's controllers do for actions they do not handle in bulk.


def cancel_invoice(store: SandboxStore, invoice: Record) -> None:
    if invoice["status_id"] in (billing.SENT, billing.PARTIAL):
        invoice["status_id"] = billing.CANCELLED
        invoice["balance"] = 0.0
        invoice["updated_at"] = store.now()
        billing.recalculate_client(store, invoice["client_id"])
        store.emit("update", "invoices", invoice)


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
        cancel_invoice(store, record)
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


async def pdf_download(request: web.Request, entity: Entity, record: Record) -> web.StreamResponse:
    store = store_of(request)
    client = store.table("clients").get(record.get("client_id")) or {}
    lines = [
        f"{entity.model} {record.get('number', '')}",
        store.company.get("settings", {}).get("name", ""),
        f"Client: {client.get('name', '')}",
        f"Date: {record.get('date', '')}",
        f"Amount: {record.get('amount', 0.0):.2f}",
        f"Balance: {record.get('balance', 0.0):.2f}",
    ]
    size = max(0, billing.to_float(request.query.get("pdf_size", 0)))
    data = build_pdf(lines, pad_to=int(size))
    filename = f"{entity.model}_{record.get('number') or store.encode(record['id'])}.pdf"  # getFileName()
    return await stream_bytes(request, data, "application/pdf", filename)


# ---------------------------------------------------------------------------------------------
# Documents


async def upload_documents(request: web.Request) -> web.Response:
    """PUT /{entity}/{id}/upload (sent as POST with _method=PUT): stores files, answers the parent."""
    entity = entity_of(request)
    store = store_of(request)
    form = await request.post()
    if request.method == "POST" and str(form.get("_method", "")).upper() != "PUT":
        raise method_not_supported()  # the route is PUT; only Laravel method spoofing reaches it by POST
    record = operations.find_by_path_id(store, entity, request.match_info["id"])
    files = uploaded_files(form)
    errors = ValidationErrors()
    for attribute, upload in files:
        if operations.document_type(upload.filename or "") not in operations.ALLOWED_DOCUMENT_TYPES:
            allowed = ", ".join(operations.ALLOWED_DOCUMENT_TYPES)
            errors.add(attribute, f"The {attribute} field must be a file of type: {allowed}.")
    errors.raise_if_any()
    is_public = str(form.get("is_public", "true")).lower() not in ("0", "false")
    for _, upload in files:
        operations.attach_document(store, entity.name, record, upload.filename or "document", upload.file.read(), is_public)
    return item(request, entity, record)


def uploaded_files(form: Any) -> list[tuple[str, web.FileField]]:
    """(validation attribute, file) pairs: `documents[]` files validate as documents.N, `documents` as documents."""
    files: list[tuple[str, web.FileField]] = []
    for base in ("documents", "file"):
        as_array = [v for v in form.getall(f"{base}[]", []) if isinstance(v, web.FileField)]
        single = [v for v in form.getall(base, []) if isinstance(v, web.FileField)]
        files += [(f"{base}.{index}", upload) for index, upload in enumerate(as_array)]
        files += [(base if len(single) == 1 else f"{base}.{index}", upload) for index, upload in enumerate(single)]
    return files


async def download_document(request: web.Request) -> web.StreamResponse:
    store = store_of(request)
    document = operations.find_by_path_id(store, ENTITIES["documents"], request.match_info["id"])
    # v5 streams documents without a Content-Type, so the framework default (text/html) goes out; and
    # streamDownload() overwrites the `inline` disposition DocumentController asks for with `attachment`.
    return await stream_bytes(request, document["content"], "text/html; charset=UTF-8", document["name"])


# ---------------------------------------------------------------------------------------------
# Account and utility routes


async def login(request: web.Request) -> web.Response:
    store = store_of(request)
    payload = await read_payload(request)
    errors = ValidationErrors()
    for field in ("email", "password"):
        if payload.get(field) in (None, ""):
            errors.required(field)
    errors.raise_if_any()
    if not account.check_credentials(store, payload.get("email"), payload.get("password")):
        raise message(401, "These credentials do not match our records")
    return json_response({"data": account.company_users(store)})


async def refresh(request: web.Request) -> web.Response:
    return json_response({"data": account.company_users(store_of(request))})


async def ping(request: web.Request) -> web.Response:
    return json_response(account.ping(store_of(request)))


async def health_check(request: web.Request) -> web.Response:
    return json_response({"system_health": True})


async def statics(request: web.Request) -> web.Response:
    return json_response(account.statics())


async def send_email(request: web.Request) -> web.Response:
    """POST /emails {entity, entity_id, template}: 'sends' and answers the entity."""
    store = store_of(request)
    payload = await read_payload(request)
    errors = ValidationErrors()
    raw_entity = str(payload.get("entity") or "")
    kind = EMAIL_ENTITIES.get(raw_entity.rsplit("\\", 1)[-1].lower().replace("recurringinvoice", "recurring_invoice"))
    if not raw_entity:
        errors.required("entity")
    elif kind is None:
        errors.invalid("entity")
    if payload.get("template") in (None, ""):
        errors.required("template")
    record = None
    if payload.get("entity_id") in (None, ""):
        errors.required("entity_id")
    elif kind is not None:
        record = store.table(kind).get(store.decode(payload["entity_id"]))
        if record is None:
            errors.invalid("entity_id")
    errors.raise_if_any()
    assert kind is not None and record is not None
    if kind in DOCUMENT_ACTIONS:
        operations.email(store, kind, record)
    return item(request, ENTITIES[kind], record)


# ---------------------------------------------------------------------------------------------
# The application


def add_routes(app: web.Application) -> None:
    entity = "{entity:" + "|".join(ROUTED_ENTITIES) + "}"
    documents_with_actions = "{entity:" + "|".join(DOCUMENT_ACTIONS) + "}"
    uploadable = "{entity:" + "|".join(UPLOADABLE) + "}"
    router = app.router
    router.add_post(f"{API}/login", login)
    router.add_post(f"{API}/refresh", refresh)
    router.add_get(f"{API}/ping", ping)
    router.add_get(f"{API}/health_check", health_check)
    router.add_get(f"{API}/statics", statics)
    router.add_post(f"{API}/emails", send_email)
    router.add_get(f"{API}/documents/{{id}}/download", download_document)
    router.add_post(f"{API}/{uploadable}/{{id}}/upload", upload_documents)
    router.add_put(f"{API}/{uploadable}/{{id}}/upload", upload_documents)
    router.add_get(f"{API}/{documents_with_actions}/{{id}}/{{action}}", document_action)
    router.add_post(f"{API}/{entity}/bulk", bulk_action)
    router.add_get(f"{API}/{entity}/create", blank_record)
    router.add_get(f"{API}/{entity}", list_records)
    router.add_post(f"{API}/{entity}", create_record)
    router.add_get(f"{API}/{entity}/{{id}}", show_record)
    router.add_put(f"{API}/{entity}/{{id}}", update_record)
    router.add_patch(f"{API}/{entity}/{{id}}", update_record)
    router.add_delete(f"{API}/{entity}/{{id}}", delete_record)


def create_app(token: str = account.SANDBOX_TOKEN, hash_salt: str = "", seed: bool = True) -> web.Application:
    """An in-memory v5 server. `app["store"]` is its SandboxStore; `seed` loads the sample company."""
    from ninja_bridge.sandbox.seed import seed_store, setup_company

    store = SandboxStore(token=token, hash_salt=hash_salt)
    setup_company(store)
    if seed:
        seed_store(store)
    app = web.Application(middlewares=[error_middleware, token_middleware], client_max_size=MAX_UPLOAD_BYTES)
    with warnings.catch_warnings():
        # Other code reads app["store"] with a plain string key, so keep it one.
        warnings.simplefilter("ignore", web.NotAppKeyWarning)
        app["store"] = store
    add_routes(app)
    webhooks.install(app, store)
    return app
