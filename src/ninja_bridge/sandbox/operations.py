"""Writes: create, update, archive/restore/delete and per-entity actions, with v5's validation.

Everything here works on decoded payloads (raw integer keys) so the seed can use the same code
paths as HTTP requests; the app layer only parses requests and renders results.
"""

from __future__ import annotations

import copy
import json
import re
from typing import Any, Callable

from ninja_bridge.sandbox import billing
from ninja_bridge.sandbox.entities import ENTITIES, Entity
from ninja_bridge.sandbox.errors import ApiError, ValidationErrors, model_not_found, numeric_path_id, record_deleted
from ninja_bridge.sandbox.store import UNDECODABLE_KEY, Record, SandboxStore, stable_token

INVOICE_LIKE = ("invoices", "quotes", "credits", "recurring_invoices")
# Request::decodePrimaryKeys decodes these top-level keys (only when they are strings).
DECODED_BODY_KEYS = (
    "group_settings_id", "group_id", "subscription_id", "assigned_user_id", "user_id", "vendor_id",
    "client_id", "invoice_id", "expense_id", "design_id", "project_id", "company_gateway_id",
    "transaction_id", "category_id", "status_id",
)
EMAIL_PATTERN = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
DATE_PATTERN = re.compile(r"^\d{4}-\d{2}-\d{2}$")
PHP_NUMERIC = re.compile(r"^\s*[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?$")
URL_PATTERN = re.compile(r"^https?://[^\s/$.?#][^\s]*$", re.IGNORECASE)
TRUTHY = (True, 1, "1", "true", "on", "yes")
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


def list_of_dicts(value: object) -> list[dict]:
    return [item for item in value if isinstance(item, dict)] if isinstance(value, list) else []


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
        return value if isinstance(value, str) else (json.dumps(value) if isinstance(value, (dict, list)) else str(value))
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
        if name not in entity.fields or name in entity.readonly or name in entity.computed:
            continue
        if name in entity.foreign_keys:
            record[name] = stored_key(value)
        elif name == "settings" and isinstance(value, dict):
            record[name] = {**record.get(name, {}), **value}
        else:
            record[name] = coerce(entity.fields[name], value)


# ---------------------------------------------------------------------------------------------
# Validation (the FormRequest rules that matter to a translating proxy)


def validate(store: SandboxStore, entity: Entity, payload: dict, existing: Record | None) -> None:
    errors = ValidationErrors()
    if "number" in entity.fields and payload.get("number"):
        clash = [r for r in store.table(entity.name).where(number=payload["number"]) if r is not existing]
        if clash:
            errors.taken("number")
    check = VALIDATORS.get(entity.name)
    if check is not None:
        check(store, payload, existing, errors)
    errors.raise_if_any()


def require_existing(store: SandboxStore, errors: ValidationErrors, payload: dict, field: str, kind: str,
                     required: bool = False, allow_deleted: bool = False) -> None:
    value = payload.get(field)
    if value is None or value == "":
        if required:
            errors.required(field)
        return
    row = store.table(kind).get(value)
    if row is None or (row.get("is_deleted") and not allow_deleted):
        errors.invalid(field)


def check_contacts(payload: dict, errors: ValidationErrors) -> None:
    if "contacts" in payload and payload["contacts"] is not None and not isinstance(payload["contacts"], list):
        errors.not_array("contacts")
        return
    for index, contact in enumerate(list_of_dicts(payload.get("contacts"))):
        email = contact.get("email")
        if email not in (None, "") and not (isinstance(email, str) and EMAIL_PATTERN.match(email)):
            errors.not_email(f"contacts.{index}.email")


def check_dates(payload: dict, errors: ValidationErrors, *fields: str) -> None:
    for field in fields:
        value = payload.get(field)
        if value not in (None, "") and not (isinstance(value, str) and DATE_PATTERN.match(value)):
            errors.not_date(field)


def check_numbers(payload: dict, errors: ValidationErrors, *fields: str) -> None:
    for field in fields:
        value = payload.get(field)
        if value is not None and (isinstance(value, bool) or billing.to_float(value) == 0.0 and not _is_zero(value)):
            errors.not_number(field)


def _is_zero(value: object) -> bool:
    return isinstance(value, (int, float)) or (isinstance(value, str) and bool(PHP_NUMERIC.match(value)))


def validate_client(store: SandboxStore, payload: dict, existing: Record | None, errors: ValidationErrors) -> None:
    check_contacts(payload, errors)


def validate_invoice_like(store: SandboxStore, payload: dict, existing: Record | None,
                          errors: ValidationErrors) -> None:
    if existing is None:
        require_existing(store, errors, payload, "client_id", "clients", required=True)
    elif "client_id" in payload and payload["client_id"] != existing["client_id"]:
        errors.invalid("client_id")  # v5: client_id may not change on update ("in:" the current one)
    check_dates(payload, errors, "date", "due_date", "partial_due_date")
    for index, invitation in enumerate(list_of_dicts(payload.get("invitations"))):
        if invitation.get("client_contact_id") in (None, ""):
            errors.required(f"invitations.{index}.client_contact_id")


def validate_payment(store: SandboxStore, payload: dict, existing: Record | None, errors: ValidationErrors) -> None:
    if existing is not None:
        return
    require_existing(store, errors, payload, "client_id", "clients", required=True)
    check_numbers(payload, errors, "amount")
    check_dates(payload, errors, "date")
    client_key = payload.get("client_id")
    for kind, key in (("invoices", "invoice_id"), ("credits", "credit_id")):
        lines = payload.get(kind)
        if lines is None:
            continue
        if not isinstance(lines, list):
            errors.not_array(kind)
            continue
        for index, line in enumerate(lines):
            line = line if isinstance(line, dict) else {}
            document = store.table(kind).get(line.get(key))
            if line.get(key) in (None, ""):
                errors.required(f"{kind}.{index}.{key}")
            elif document is None or document["is_deleted"] or document["client_id"] != client_key:
                errors.invalid(f"{kind}.{index}.{key}")
            if line.get("amount") is None:
                errors.required(f"{kind}.{index}.amount")


def validate_named(store: SandboxStore, payload: dict, existing: Record | None, errors: ValidationErrors,
                   kind: str) -> None:
    name = payload.get("name")
    if existing is None and name in (None, ""):
        errors.required("name")
    elif name is not None:
        clash = [r for r in store.table(kind).where(name=name) if r is not existing and not r["is_deleted"]]
        if clash:
            errors.taken("name")


def validate_tax_rate(store: SandboxStore, payload: dict, existing: Record | None, errors: ValidationErrors) -> None:
    validate_named(store, payload, existing, errors, "tax_rates")
    if existing is None and payload.get("rate") is None:
        errors.required("rate")
    else:
        check_numbers(payload, errors, "rate")


def validate_product(store: SandboxStore, payload: dict, existing: Record | None, errors: ValidationErrors) -> None:
    check_numbers(payload, errors, "cost", "price", "quantity")


def validate_project(store: SandboxStore, payload: dict, existing: Record | None, errors: ValidationErrors) -> None:
    if existing is None:
        if payload.get("name") in (None, ""):
            errors.required("name")
        require_existing(store, errors, payload, "client_id", "clients", required=True)


def validate_expense(store: SandboxStore, payload: dict, existing: Record | None, errors: ValidationErrors) -> None:
    require_existing(store, errors, payload, "client_id", "clients")
    require_existing(store, errors, payload, "vendor_id", "vendors")
    require_existing(store, errors, payload, "category_id", "expense_categories")
    check_dates(payload, errors, "date", "payment_date")
    check_numbers(payload, errors, "amount")


def validate_task(store: SandboxStore, payload: dict, existing: Record | None, errors: ValidationErrors) -> None:
    require_existing(store, errors, payload, "client_id", "clients")
    require_existing(store, errors, payload, "project_id", "projects")
    time_log = payload.get("time_log")
    if time_log not in (None, "") and not billing_time_log_ok(time_log):
        errors.add("time_log", "Please correct overlapping values")


def billing_time_log_ok(time_log: object) -> bool:
    try:
        log = json.loads(time_log) if isinstance(time_log, str) else time_log
    except ValueError:
        return False
    return isinstance(log, list) and all(isinstance(entry, list) for entry in log)


def validate_vendor(store: SandboxStore, payload: dict, existing: Record | None, errors: ValidationErrors) -> None:
    check_contacts(payload, errors)


def validate_webhook(store: SandboxStore, payload: dict, existing: Record | None, errors: ValidationErrors) -> None:
    target = payload.get("target_url")
    if existing is None and target in (None, ""):
        errors.required("target_url")
    elif target is not None and not (isinstance(target, str) and URL_PATTERN.match(target)):
        errors.not_url("target_url")
    if existing is None and payload.get("event_id") in (None, ""):
        errors.required("event_id")
    if "rest_method" in payload and payload["rest_method"] not in ("post", "put"):
        errors.invalid("rest_method")  # `in:post,put` is case-sensitive
    errors.raise_if_any()
    if payload.get("event_id") not in (None, "") and not is_valid_webhook_event(payload["event_id"]):
        raise ApiError(400, "Invalid event")  # v5 answers this one with a bare JSON string


def is_valid_webhook_event(event_id: object) -> bool:
    """Webhook::$valid_events holds ids 1-64; PHP's in_array compares numeric strings as numbers."""
    if isinstance(event_id, bool) or not isinstance(event_id, (int, float, str)):
        return False
    if isinstance(event_id, str) and not PHP_NUMERIC.match(event_id):
        return False
    number = float(event_id)
    return number.is_integer() and 1 <= number <= 64

Validator = Callable[[SandboxStore, dict, "Record | None", ValidationErrors], None]
VALIDATORS: dict[str, Validator] = {
    "clients": validate_client,
    "invoices": validate_invoice_like,
    "quotes": validate_invoice_like,
    "credits": validate_invoice_like,
    "recurring_invoices": validate_invoice_like,
    "payments": validate_payment,
    "products": validate_product,
    "tax_rates": validate_tax_rate,
    "projects": validate_project,
    "expenses": validate_expense,
    "expense_categories": lambda s, p, e, errs: validate_named(s, p, e, errs, "expense_categories"),
    "task_statuses": lambda s, p, e, errs: validate_named(s, p, e, errs, "task_statuses"),
    "tasks": validate_task,
    "vendors": validate_vendor,
    "webhooks": validate_webhook,
}


# ---------------------------------------------------------------------------------------------
# Nested records: contacts and invitations


def sync_contacts(store: SandboxStore, kind: str, parent_key: int, payload: dict, created: bool) -> None:
    """v5 ContactRepository::save: the sent list replaces the contacts; there is always one."""
    parent_field = "client_id" if kind == "client_contacts" else "vendor_id"
    table = store.table(kind)
    entity = ENTITIES[kind]
    now = store.now()
    if isinstance(payload.get("contacts"), list):
        sent = list_of_dicts(payload["contacts"])
        kept = {c.get("id") for c in sent}
        for existing in table.where(**{parent_field: parent_key}):
            if existing["id"] not in kept:
                table.remove(existing["id"])
        for contact_payload in sent:
            contact = table.get(contact_payload.get("id"))
            if contact is None or contact[parent_field] != parent_key:
                contact = blank_record(entity)
                contact[parent_field] = parent_key
                contact["created_at"] = now
                table.insert(contact)
                contact["contact_key"] = stable_token(kind, contact["id"] - store.key_shift)
            assign_fields(entity, contact, contact_payload)
            password = contact_payload.get("password")
            if password and password != "**********":
                contact["has_password"] = True
            contact["updated_at"] = now
    contacts = table.where(**{parent_field: parent_key})
    if not contacts and (created or isinstance(payload.get("contacts"), list)):
        contact = blank_record(entity)
        contact.update({parent_field: parent_key, "created_at": now, "updated_at": now})
        table.insert(contact)
        contact["contact_key"] = stable_token(kind, contact["id"] - store.key_shift)
        contacts = [contact]
    if contacts and not any(c["is_primary"] for c in contacts):
        contacts[0]["is_primary"] = True


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
    if kind in INVOICE_LIKE or kind == "payments" or kind == "expenses":
        record["date"] = record.get("date") or billing.today(store)
    if kind in INVOICE_LIKE:
        record["line_items"] = billing.clean_line_items(payload.get("line_items"))
        billing.compute_totals(record)
    if kind == "payments":
        record["client_id"] = payload["client_id"]
        record["amount"] = billing.to_float(payload["amount"]) if payload.get("amount") is not None else None
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


def after_save(store: SandboxStore, kind: str, record: Record, payload: dict, created: bool) -> None:
    if kind == "clients":
        if created:
            record["client_hash"] = stable_token("client", record["id"], length=40)
            record.setdefault("settings", {})
            record["settings"] = {"currency_id": "1", **record["settings"]}
        sync_contacts(store, "client_contacts", record["id"], payload, created)
    elif kind == "vendors":
        sync_contacts(store, "vendor_contacts", record["id"], payload, created)
    elif kind in INVOICE_LIKE:
        sync_invitations(store, kind, record, payload, created)
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
    was_deleted = record["is_deleted"]
    record["archived_at"] = 0
    record["is_deleted"] = False
    record["updated_at"] = store.now()
    if kind == "payments" and was_deleted:
        billing.reverse_payment(store, record, sign=+1)
    refresh_client(store, kind, record)
    store.emit("restore", kind, record)


def delete(store: SandboxStore, kind: str, record: Record) -> None:
    if record["is_deleted"]:
        return
    record["is_deleted"] = True
    record["archived_at"] = record["archived_at"] or store.now()
    record["updated_at"] = store.now()
    if kind == "payments":
        billing.reverse_payment(store, record)
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
    stamp = billing.today(store)
    record["last_sent_date"] = stamp
    for invitation in store.table("invitations").where(entity_type=kind, entity_id=record["id"]):
        invitation["sent_date"] = stamp
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


def convert_quote(store: SandboxStore, quote: Record) -> Record:
    if quote.get("invoice_id"):
        invoice = store.table("invoices").get(quote["invoice_id"])
        if invoice is not None:
            return invoice
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
