"""Writes: create, update, archive/restore/delete, nested contacts and invitations, per-entity actions.

Everything here works on decoded payloads (raw integer keys) so the seed can use the same code
paths as HTTP requests; the app layer only parses requests and renders results.
"""

from __future__ import annotations

import copy
import json
from typing import Any, Callable

from ninja_bridge.sandbox import billing
from ninja_bridge.sandbox.entities import ENTITIES, Entity
from ninja_bridge.sandbox.errors import ApiError, model_not_found, numeric_path_id, record_deleted, unauthorized
from ninja_bridge.sandbox.store import Record, SandboxStore, stable_token
from ninja_bridge.sandbox.validation import PHP_NUMERIC, list_of_dicts, parse_date, validate

INVOICE_LIKE = ("invoices", "quotes", "credits", "recurring_invoices")
CLIENT_SETTINGS_DEFAULTS = {"entity": "App\\Models\\Client", "industry_id": "", "size_id": ""}
# Request::decodePrimaryKeys decodes these top-level keys (only when they are strings).
DECODED_BODY_KEYS = (
    "group_settings_id", "group_id", "subscription_id", "assigned_user_id", "user_id", "vendor_id",
    "client_id", "invoice_id", "expense_id", "design_id", "project_id", "company_gateway_id",
    "transaction_id", "category_id", "status_id",
)
TRUTHY = (True, 1, "1", "true", "on", "yes")
# Columns cast to dates: whatever format was accepted is stored (and rendered) as Y-m-d.
DATE_FIELDS = frozenset({"date", "due_date", "partial_due_date", "payment_date", "next_send_date"})
# Request::$file_validation: the document types v5 accepts.
ALLOWED_DOCUMENT_TYPES = ("png", "ai", "jpeg", "tiff", "pdf", "gif", "psd", "txt", "doc", "xls", "ppt",
                          "xlsx", "docx", "pptx", "webp", "xml", "zip", "csv", "ods", "odt", "odp")
EXTENSION_ALIASES = {"jpg": "jpeg", "jpe": "jpeg", "tif": "tiff"}


# ---------------------------------------------------------------------------------------------
# Finding records


def find_by_path_id(store: SandboxStore, entity: Entity, raw_id: str) -> Record:
    """v5's route model binding: numeric values are refused, hashes decoded, deleted rows found."""
    if PHP_NUMERIC.match(raw_id):
        raise numeric_path_id(raw_id)
    key = store.codec.decode(raw_id)
    record = store.table(entity.name).get(key)
    if record is None:
        # User binding is scoped to the account, so other companies' users are simply not found.
        if entity.name != "users" and store.belongs_to_other_company(entity.name, key):
            raise unauthorized()
        raise model_not_found(entity.model)
    return record


# ---------------------------------------------------------------------------------------------
# Payload handling


def decode_body(store: SandboxStore, entity: Entity, payload: dict) -> dict:
    """Decodes the hashed ids of a request body like v5: strings only, integers kept as raw keys."""
    decoded = copy.deepcopy(payload)
    for key in DECODED_BODY_KEYS:
        if key in decoded and (key in entity.foreign_keys or key != "status_id"):
            decoded[key] = store.decode(decoded[key])
    for contact in list_of_dicts(decoded.get("contacts")):
        if "id" in contact:
            if isinstance(contact["id"], str) and contact["id"]:
                contact["id"] = store.decode(contact["id"])
            else:
                contact.pop("id")  # a numeric contact id is dropped: the contact counts as new
    for invitation in list_of_dicts(decoded.get("invitations")):
        if "client_contact_id" in invitation:
            invitation["client_contact_id"] = store.decode(invitation["client_contact_id"])
        if "id" in invitation:
            invitation["id"] = store.decode(invitation["id"]) if isinstance(invitation["id"], str) else None
    for line in list_of_dicts(decoded.get("invoices")):
        if "invoice_id" in line:
            line["invoice_id"] = store.decode(line["invoice_id"])
    for line in list_of_dicts(decoded.get("credits")):
        if "credit_id" in line:
            line["credit_id"] = store.decode(line["credit_id"])
    return decoded


def coerce(default: Any, value: Any) -> Any:
    """Casts an input value to the stored type, leniently like Eloquent casts."""
    if value is None:
        return copy.deepcopy(default)
    if isinstance(default, bool):
        return value in TRUTHY
    if isinstance(default, float):
        return billing.to_float(value)
    if isinstance(default, int):
        return int(billing.to_float(value))
    if isinstance(default, str):
        if isinstance(value, bool):
            return "1" if value else ""
        if isinstance(value, float) and value.is_integer():
            return str(int(value))
        if isinstance(value, (dict, list)):
            return json.dumps(value)
        return value if isinstance(value, str) else str(value)
    if isinstance(default, dict):
        return value if isinstance(value, dict) else copy.deepcopy(default)
    if isinstance(default, list):
        return value if isinstance(value, list) else copy.deepcopy(default)
    return value


def stored_key(value: object) -> int | None:
    """What lands in a foreign-key column: a plausible raw key, else null."""
    if type(value) is int and value >= 0:
        return value
    return None


def blank_record(entity: Entity) -> Record:
    record: Record = {}
    for name, default in entity.fields.items():
        if name in entity.computed:
            continue
        record[name] = None if name in entity.foreign_keys else copy.deepcopy(default)
    record.pop("id", None)
    return record


def assign_fields(entity: Entity, record: Record, payload: dict) -> None:
    for name, value in payload.items():
        if name not in entity.fields or name in entity.protected_fields or name in entity.computed:
            continue
        if name in entity.foreign_keys:
            record[name] = stored_key(value)
        elif name in DATE_FIELDS and isinstance(value, str) and value:
            record[name] = parse_date(value) or value
        elif name == "settings" and isinstance(value, dict):
            # saveSettings(): merged over the current settings, blank values dropped
            sent = {k: v for k, v in value.items() if v not in (None, "", [], {}, 0, False)}
            record[name] = {**record.get(name, {}), **sent}
        else:
            record[name] = coerce(entity.fields[name], value)


# ---------------------------------------------------------------------------------------------
# Nested records: contacts and invitations


def sync_contacts(store: SandboxStore, kind: str, parent_key: int, payload: dict, created: bool) -> None:
    """ClientContactRepository / VendorContactRepository::save.

    Runs when `contacts` is sent (or the parent has none). The sent list replaces the contacts; the first
    (primaries first) becomes the only primary; a client always keeps one contact with send_email; an id of
    another client's contact moves that contact here; a parent is never left without a contact."""
    is_client = kind == "client_contacts"
    parent_field = "client_id" if is_client else "vendor_id"
    table = store.table(kind)
    if "contacts" not in payload and table.where(**{parent_field: parent_key}):
        return
    sent = payload.get("contacts")
    sent = list_of_dicts(sent) if isinstance(sent, list) else [sent] if isinstance(sent, dict) else []
    kept = {contact.get("id") for contact in sent}
    for existing in table.where(**{parent_field: parent_key}):
        if existing["id"] not in kept:
            table.remove(existing["id"])
    ordered = sorted(sent, key=lambda contact: contact.get("is_primary") not in TRUTHY)  # stable
    needs_sender = is_client and not any(contact.get("send_email") in TRUTHY for contact in sent)
    for position, contact_payload in enumerate(ordered):
        changes = {**contact_payload, "is_primary": position == 0}
        if needs_sender and position == 0:
            changes["send_email"] = True
        if isinstance(changes.get("email"), str):
            changes["email"] = changes["email"].strip()
        contact = table.get(changes.get("id"))
        if contact is None:
            contact = new_contact(store, kind, parent_field, parent_key)
        elif is_client and contact[parent_field] != parent_key:
            table.relink(contact, **{parent_field: parent_key})  # ClientContact::find() is not client-scoped
        assign_fields(ENTITIES[kind], contact, changes)
        password = contact_payload.get("password")
        if isinstance(password, str) and len(password) > 1 and password != "**********":
            contact["has_password"] = not is_client or len(contact["email"]) > 3
        contact["updated_at"] = store.now()
    if not table.where(**{parent_field: parent_key}):
        blank = new_contact(store, kind, parent_field, parent_key, key_length=40)
        blank.update({"is_primary": True, "email": " " if is_client else ""})  # v5's placeholder contact


def new_contact(store: SandboxStore, kind: str, parent_field: str, parent_key: int, key_length: int = 32) -> Record:
    contact = blank_record(ENTITIES[kind])
    contact.update({parent_field: parent_key, "created_at": store.now(), "updated_at": store.now()})
    store.table(kind).insert(contact)
    # Natural keys survive a (re-)migration: derive them from the key before the shift.
    contact["contact_key"] = stable_token(kind, contact["id"] - store.key_shift, length=key_length)
    return contact


def sync_invitations(store: SandboxStore, kind: str, record: Record, payload: dict, created: bool) -> None:
    """Invitations link a document to the contacts who receive it; v5 makes them when none are sent."""
    table = store.table("invitations")
    existing = table.where(entity_type=kind, entity_id=record["id"])
    sent = payload.get("invitations")
    if not isinstance(sent, list):
        if created:
            for contact in store.table("client_contacts").where(client_id=record["client_id"]):
                if contact["send_email"]:
                    add_invitation(store, kind, record, contact["id"])
        return
    sent = list_of_dicts(sent)
    kept_keys = {inv.get("key") for inv in sent if inv.get("key")} | {inv.get("id") for inv in sent}
    for invitation in existing:
        if invitation["key"] not in kept_keys and invitation["id"] not in kept_keys:
            table.remove(invitation["id"])
    current_contacts = {inv["client_contact_id"] for inv in table.where(entity_type=kind, entity_id=record["id"])}
    for invitation in sent:
        contact = store.table("client_contacts").get(invitation.get("client_contact_id"))
        if contact is None or contact["client_id"] != record["client_id"] or contact["id"] in current_contacts:
            continue
        add_invitation(store, kind, record, contact["id"])
        current_contacts.add(contact["id"])


def add_invitation(store: SandboxStore, kind: str, record: Record, contact_key: int) -> Record:
    now = store.now()
    invitation = {
        "entity_type": kind, "entity_id": record["id"], "client_contact_id": contact_key, "key": "",
        "sent_date": "", "viewed_date": "", "opened_date": "", "email_status": "", "email_error": "",
        "message_id": "", "created_at": now, "updated_at": now, "archived_at": 0,
    }
    store.table("invitations").insert(invitation)
    invitation["key"] = stable_token("invitation", invitation["id"] - store.key_shift)  # natural keys survive a re-migration
    return invitation


# ---------------------------------------------------------------------------------------------
# Create / update


def create(store: SandboxStore, kind: str, payload: dict) -> Record:
    """Validates and stores a new record from a decoded payload; emits "create"."""
    entity = ENTITIES[kind]
    validate(store, entity, payload, None)
    record = blank_record(entity)
    assign_fields(entity, record, payload)
    now = store.now()
    record["created_at"] = record["updated_at"] = now
    if "user_id" in entity.fields and record.get("user_id") is None:
        record["user_id"] = store.owner_user_key
    if kind == "webhooks":
        record["company_id"] = store.company.get("id")
        record["event_id"] = str(payload["event_id"])
    if "number" in entity.fields and not record.get("number") and kind not in ("tax_rates",):
        record["number"] = billing.next_number(store, kind)
    if kind == "tasks":
        fill_task_defaults(store, record)
    if kind in INVOICE_LIKE or kind == "payments" or kind == "expenses":
        record["date"] = record.get("date") or billing.today(store)
    if kind in INVOICE_LIKE:
        record["line_items"] = billing.clean_line_items(payload.get("line_items"))
        billing.compute_totals(record)
        if record.get("design_id") is None:
            record["design_id"] = default_design_key(store)
    if kind == "payments":
        record["client_id"] = payload["client_id"]
        # An absent or zero amount defaults to what is applied (invoices minus credits).
        record["amount"] = billing.to_float(payload.get("amount")) or None
        record = billing.create_payment(store, record, list_of_dicts(payload.get("invoices")),
                                        list_of_dicts(payload.get("credits")))
    else:
        store.table(kind).insert(record)
    after_save(store, kind, record, payload, created=True)
    store.emit("create", kind, record)
    return record


def update(store: SandboxStore, kind: str, record: Record, payload: dict) -> Record:
    entity = ENTITIES[kind]
    if record.get("is_deleted"):
        raise record_deleted()
    validate(store, entity, payload, record)
    if kind == "payments":
        # Money on an existing payment moves through refunds, not edits; keep the amounts fixed.
        payload = {k: v for k, v in payload.items() if k not in ("amount", "client_id", "invoices", "credits")}
    assign_fields(entity, record, payload)
    if kind == "webhooks" and payload.get("event_id") not in (None, ""):
        record["event_id"] = str(payload["event_id"])
    if kind in INVOICE_LIKE:
        if "line_items" in payload:
            record["line_items"] = billing.clean_line_items(payload.get("line_items"))
        billing.compute_totals(record)
        billing.settle_status(record)
    record["updated_at"] = store.now()
    after_save(store, kind, record, payload, created=False)
    store.emit("update", kind, record)
    return record


def fill_task_defaults(store: SandboxStore, task: Record) -> None:
    """TaskRepository on a new task: the first task status, and a rate from project, client or company."""
    if task.get("status_id") is None:
        statuses = [s for s in store.table("task_statuses") if not s["archived_at"]]
        if statuses:
            task["status_id"] = min(statuses, key=lambda s: (s["status_order"], s["id"]))["id"]
    if task.get("rate", 0) <= 0:
        project = store.table("projects").get(task.get("project_id")) or {}
        client = store.table("clients").get(task.get("client_id")) or {}
        candidates = (project.get("task_rate"), client.get("settings", {}).get("default_task_rate"),
                      store.company.get("settings", {}).get("default_task_rate"))
        task["rate"] = next((billing.to_float(rate) for rate in candidates if billing.to_float(rate) > 0), 0.0)


def link_billed_work(store: SandboxStore, invoice: Record) -> None:
    """InvoiceService::linkEntities: tasks and expenses named by hashed line_items[].task_id / expense_id
    point back at the invoice (a line item id that is not a valid hash links nothing)."""
    for kind, line_key in (("tasks", "task_id"), ("expenses", "expense_id")):
        wanted = {store.codec.decode(str(line[line_key])) for line in invoice["line_items"] if line.get(line_key)}
        for row in store.table(kind):
            if row["id"] in wanted:
                row["invoice_id"] = invoice["id"]
            elif kind == "tasks" and row.get("invoice_id") == invoice["id"]:
                row["invoice_id"] = None  # v5 unlinks the invoice's tasks first (expenses stay linked)


def default_design_key(store: SandboxStore) -> int:
    """fillDefaults decodes the settings' invoice_design_id, hard-coded as the hash "Wpmbk5ezJn" (2 with the
    empty salt); under another salt it does not decode and PHP's intval() of the error object gives 1."""
    return store.codec.decode("Wpmbk5ezJn") or 1


def after_save(store: SandboxStore, kind: str, record: Record, payload: dict, created: bool) -> None:
    if kind == "clients":
        if created:
            record["client_hash"] = stable_token("client", record["id"], length=40)
            # ClientSettings::defaults(); everything else (currency, language) is inherited from the
            # company at run time and only appears here when set on the client.
            record["settings"] = {**CLIENT_SETTINGS_DEFAULTS, **record.get("settings", {})}
        if not record.get("country_id") or record["country_id"] == "0":
            record["country_id"] = str(store.company.get("settings", {}).get("country_id", ""))
        sync_contacts(store, "client_contacts", record["id"], payload, created)
    elif kind == "vendors":
        sync_contacts(store, "vendor_contacts", record["id"], payload, created)
    elif kind in INVOICE_LIKE:
        sync_invitations(store, kind, record, payload, created)
        if kind == "invoices":
            link_billed_work(store, record)
        billing.recalculate_client(store, record["client_id"])
    elif kind == "tasks" and isinstance(record.get("time_log"), str) and not record["time_log"]:
        record["time_log"] = "[]"


# ---------------------------------------------------------------------------------------------
# Archive / restore / delete and per-entity actions


def archive(store: SandboxStore, kind: str, record: Record) -> None:
    if not record["archived_at"]:
        record["archived_at"] = record["updated_at"] = store.now()
        store.emit("archive", kind, record)


def restore(store: SandboxStore, kind: str, record: Record) -> None:
    if not record["archived_at"] and not record["is_deleted"]:
        return
    if kind == "payments" and record["is_deleted"]:
        return  # PaymentRepository::restore: "we cannot restore a deleted payment"
    was_deleted = record["is_deleted"]
    record["archived_at"] = 0
    record["is_deleted"] = False
    record["updated_at"] = store.now()
    if kind == "invoices" and was_deleted:
        billing.restore_invoice(store, record)
    refresh_client(store, kind, record)
    store.emit("restore", kind, record)


def delete(store: SandboxStore, kind: str, record: Record) -> None:
    if record["is_deleted"]:
        return
    record["is_deleted"] = True
    record["archived_at"] = record["updated_at"] = store.now()  # the soft delete stamps deleted_at again
    if kind == "payments":
        billing.cancel_payment(store, record)
    elif kind == "invoices":
        billing.delete_invoice(store, record)
    refresh_client(store, kind, record)
    store.emit("delete", kind, record)


def refresh_client(store: SandboxStore, kind: str, record: Record) -> None:
    if kind in ("invoices", "credits", "payments"):
        billing.recalculate_client(store, record.get("client_id"))


LIFECYCLE_ACTIONS: dict[str, Callable[[SandboxStore, str, Record], None]] = {
    "archive": archive,
    "restore": restore,
    "delete": delete,
}


def email(store: SandboxStore, kind: str, record: Record) -> None:
    """Pretend delivery: marks the document sent and stamps its invitations."""
    billing.mark_sent(store, kind, record)
    record["last_sent_date"] = billing.today(store)
    for invitation in store.table("invitations").where(entity_type=kind, entity_id=record["id"]):
        invitation["sent_date"] = billing.timestamp(store)
        invitation["email_status"] = "delivered"


def approve_quote(store: SandboxStore, record: Record) -> None:
    if record["status_id"] not in (billing.DRAFT, billing.SENT) or record["is_deleted"]:
        raise ApiError(400, {"message": "Unable to approve this quote as it has expired."})
    record["status_id"] = billing.QUOTE_APPROVED
    record["updated_at"] = store.now()
    store.emit("approve", "quotes", record)


COPIED_DOCUMENT_FIELDS = (
    "client_id", "project_id", "assigned_user_id", "vendor_id", "discount", "is_amount_discount", "po_number",
    "terms", "public_notes", "private_notes", "footer", "uses_inclusive_taxes", "tax_name1", "tax_rate1",
    "tax_name2", "tax_rate2", "tax_name3", "tax_rate3", "custom_value1", "custom_value2", "custom_value3",
    "custom_value4", "custom_surcharge1", "custom_surcharge2", "custom_surcharge3", "custom_surcharge4",
    "exchange_rate", "partial", "line_items",
)


def copy_to_invoice(store: SandboxStore, kind: str, source: Record) -> Record:
    """A new draft invoice with the source's client, terms and line items (quote convert, send_now)."""
    payload = {name: copy.deepcopy(source[name]) for name in COPIED_DOCUMENT_FIELDS if name in source}
    payload["date"] = billing.today(store)
    payload["invitations"] = [
        {"client_contact_id": invitation["client_contact_id"]}
        for invitation in store.table("invitations").where(entity_type=kind, entity_id=source["id"])
    ]
    return create(store, "invoices", payload)


def unsaved_clone(target: Entity, source: Record) -> Record:
    """What v5's Clone*Factory returns: a fresh draft copy that was never saved (id and number null)."""
    clone = blank_record(target)
    for name in COPIED_DOCUMENT_FIELDS:
        if name in source and name in clone:
            clone[name] = copy.deepcopy(source[name])
    clone.update({"id": None, "number": "", "status_id": billing.DRAFT, "date": source.get("date", "")})
    billing.compute_totals(clone)
    return clone


def convert_quote(store: SandboxStore, quote: Record) -> Record:
    """QuoteService::convert: a draft invoice for the same client and lines, invited as the quote was."""
    if quote.get("invoice_id"):
        raise ApiError(400, {"message": "This quote has already been converted. Cannot convert again."})
    invoice = copy_to_invoice(store, "quotes", quote)
    quote["invoice_id"] = invoice["id"]
    quote["status_id"] = billing.QUOTE_CONVERTED
    quote["updated_at"] = store.now()
    store.emit("update", "quotes", quote)
    return invoice


def set_recurring_state(store: SandboxStore, record: Record, status: str) -> None:
    record["status_id"] = status
    record["updated_at"] = store.now()
    store.emit("update", "recurring_invoices", record)


# ---------------------------------------------------------------------------------------------
# Documents


def document_type(filename: str) -> str:
    extension = filename.rsplit(".", 1)[-1].lower() if "." in filename else ""
    return EXTENSION_ALIASES.get(extension, extension)


def attach_document(store: SandboxStore, kind: str, parent: Record, filename: str, content: bytes,
                    is_public: bool = True) -> Record:
    now = store.now()
    document = blank_record(ENTITIES["documents"])
    document.update({
        "documentable_type": kind, "documentable_id": parent["id"], "user_id": store.owner_user_key,
        "name": filename, "type": document_type(filename), "size": len(content), "content": content,
        "is_public": is_public, "created_at": now, "updated_at": now,
    })
    store.table("documents").insert(document)
    document["hash"] = stable_token("document", document["id"], len(content), length=40)
    store.emit("create", "documents", document)
    return document
