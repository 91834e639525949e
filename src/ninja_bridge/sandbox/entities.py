"""What each v5 entity looks like: its fields (in transformer order), foreign keys, includes.

Definitions are data; `render` turns a stored record into the JSON object the v5 transformer would
emit (hashed ids, numeric-string lookup ids, unix timestamps, floats for money).
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any, Callable

from ninja_bridge.sandbox.billing import active_links
from ninja_bridge.sandbox.store import Record, SandboxStore

# Where links in rendered records point (v5 builds them from its APP_URL).
PORTAL_URL = "https://sandbox.invoicing.test"

IncludeTree = dict[str, "IncludeTree"]
Include = Callable[[SandboxStore, Record, IncludeTree], Any]
Computed = Callable[[SandboxStore, Record], Any]


# Never taken from a request: keys and lifecycle columns change only through their own routes.
ALWAYS_READONLY = frozenset({"id", "created_at", "updated_at", "archived_at", "is_deleted"})


@dataclass(frozen=True)
class Entity:
    """One v5 model as the API exposes it."""

    name: str  # API path segment and table name, e.g. "invoices"
    model: str  # v5 model class, used in "No query results for model [App\\Models\\X]."
    fields: dict[str, Any]  # output field -> default, in the transformer's order
    foreign_keys: dict[str, str | None] = field(default_factory=dict)  # field -> table (None: not emulated)
    computed: dict[str, Computed] = field(default_factory=dict)
    readonly: frozenset[str] = frozenset()  # beyond ALWAYS_READONLY
    includes: dict[str, Include] = field(default_factory=dict)
    default_includes: tuple[str, ...] = ()
    # Eloquent relations that `?include=` accepts on lists although the transformer renders nothing.
    silent_relations: frozenset[str] = frozenset()
    search_fields: tuple[str, ...] = ()  # what `?filter=` searches
    filters: frozenset[str] = frozenset()  # entity-specific query filters (beyond the common ones)

    @property
    def protected_fields(self) -> frozenset[str]:
        return self.readonly | ALWAYS_READONLY

    @property
    def valid_relations(self) -> frozenset[str]:
        return frozenset(self.includes) | self.silent_relations



def custom_values() -> dict[str, str]:
    return {f"custom_value{n}": "" for n in range(1, 5)}


def taxes(levels: int = 3) -> dict[str, Any]:
    result: dict[str, Any] = {}
    for n in range(1, levels + 1):
        result[f"tax_name{n}"] = ""
        result[f"tax_rate{n}"] = 0.0
    return result


def timestamps() -> dict[str, int]:
    return {"created_at": 0, "updated_at": 0, "archived_at": 0}


# ---------------------------------------------------------------------------------------------
# Rendering


def parse_includes(raw: str | None) -> IncludeTree:
    """'client.contacts,invitations' -> {'client': {'contacts': {}}, 'invitations': {}}."""
    tree: IncludeTree = {}
    for path in (raw or "").split(","):
        node = tree
        for part in path.strip().split("."):
            if part:
                node = node.setdefault(part, {})
    return tree


def render(store: SandboxStore, entity: Entity, record: Record, includes: IncludeTree | None = None) -> dict:
    output: dict[str, Any] = {}
    for name, default in entity.fields.items():
        if name in entity.computed:
            value = entity.computed[name](store, record)
        elif name == "id" or name in entity.foreign_keys:
            value = store.encode(record.get(name))
        else:
            value = record.get(name)
            if value is None:
                value = default
            if isinstance(value, (dict, list)):
                value = copy_json(value)
        output[name] = value
    requested = includes or {}
    for name in dict.fromkeys([*entity.default_includes, *requested]):
        if name in entity.includes:
            value = entity.includes[name](store, record, requested.get(name, {}))
            if value is not None:
                output[name] = value
    return output


def copy_json(value: Any) -> Any:
    """A copy of JSON-like data (much cheaper than deepcopy), so callers may mutate what they render."""
    if isinstance(value, dict):
        return {k: copy_json(v) for k, v in value.items()}
    if isinstance(value, list):
        return [copy_json(v) for v in value]
    return value


# ---------------------------------------------------------------------------------------------
# Include builders


def has_many(kind: str, match: Callable[[Record], dict[str, Any]]) -> Include:
    def include(store: SandboxStore, record: Record, nested: IncludeTree) -> list:
        rows = store.table(kind).where(**match(record))
        return [render(store, ENTITIES[kind], row, nested) for row in rows]

    return include


def belongs_to(kind: str, foreign_key: str) -> Include:
    def include(store: SandboxStore, record: Record, nested: IncludeTree) -> dict | None:
        parent = store.table(kind).get(record.get(foreign_key))
        return None if parent is None else render(store, ENTITIES[kind], parent, nested)

    return include


def empty_list(store: SandboxStore, record: Record, nested: IncludeTree) -> list:
    return []


def documents_of(kind: str) -> Include:
    def include(store: SandboxStore, record: Record, nested: IncludeTree) -> list:
        rows = store.table("documents").where(documentable_type=kind, documentable_id=record["id"])
        return [render(store, ENTITIES["documents"], row, nested) for row in rows]

    return include


def invitations_of(kind: str) -> Include:
    return has_many("invitations", lambda record: {"entity_type": kind, "entity_id": record["id"]})


def payment_paymentables(store: SandboxStore, record: Record, nested: IncludeTree) -> list:
    return [render_paymentable(store, row) for row in active_links(store, payment_id=record["id"])]


def render_paymentable(store: SandboxStore, row: Record) -> dict:
    # The key is invoice_id or credit_id depending on what the payment was applied to.
    target_key = "credit_id" if row["paymentable_type"] == "credits" else "invoice_id"
    return {
        "id": store.encode(row["id"]),
        target_key: store.encode(row["paymentable_id"]),
        "amount": row["amount"],
        "refunded": row["refunded"],
        "created_at": row["created_at"],
        "updated_at": row["updated_at"],
        "archived_at": row["archived_at"],
    }


def payment_targets(kind: str) -> Include:
    """Payment -> the invoices (or credits) it was applied to."""

    def include(store: SandboxStore, record: Record, nested: IncludeTree) -> list:
        links = active_links(store, payment_id=record["id"], paymentable_type=kind)
        keys = dict.fromkeys(link["paymentable_id"] for link in links)
        rows = [store.table(kind).get(key) for key in keys]
        return [render(store, ENTITIES[kind], row, nested) for row in rows if row is not None]

    return include


def payments_of(kind: str) -> Include:
    """Invoice (or credit) -> the payments applied to it."""

    def include(store: SandboxStore, record: Record, nested: IncludeTree) -> list:
        links = active_links(store, paymentable_type=kind, paymentable_id=record["id"])
        keys = dict.fromkeys(link["payment_id"] for link in links)
        rows = [store.table("payments").get(key) for key in keys]
        return [render(store, ENTITIES["payments"], row, nested) for row in rows if row is not None]

    return include


def children(kind: str, foreign_key: str) -> Include:
    return has_many(kind, lambda record: {foreign_key: record["id"]})


def contacts_of(kind: str, foreign_key: str) -> Include:
    """Client::contacts() / Vendor::contacts(): `orderBy('is_primary', 'desc')`, the primary contact first."""

    def include(store: SandboxStore, record: Record, nested: IncludeTree) -> list:
        rows = sorted(store.table(kind).where(**{foreign_key: record["id"]}), key=lambda row: not row["is_primary"])
        return [render(store, ENTITIES[kind], row, nested) for row in rows]

    return include


# ---------------------------------------------------------------------------------------------
# Computed fields


def client_display_name(store: SandboxStore, record: Record) -> str:
    if record.get("name"):
        return record["name"]
    contacts = store.table("client_contacts").where(client_id=record["id"])
    primary = next((c for c in contacts if c.get("is_primary")), contacts[0] if contacts else None)
    if primary is None:
        return ""
    full_name = f"{primary.get('first_name') or ''} {primary.get('last_name') or ''}".strip()
    return full_name or primary.get("email") or ""


def vendor_display_name(store: SandboxStore, record: Record) -> str:
    if record.get("name"):
        return record["name"]
    contacts = store.table("vendor_contacts").where(vendor_id=record["id"])
    if not contacts:
        return ""
    first = contacts[0]
    return f"{first.get('first_name') or ''} {first.get('last_name') or ''}".strip() or first.get("email") or ""


def contact_password(store: SandboxStore, record: Record) -> str:
    return "**********" if record.get("has_password") else ""


def contact_link(store: SandboxStore, record: Record) -> str:
    return f"{PORTAL_URL}/client/key_login/{record.get('contact_key', '')}"


def vendor_contact_link(store: SandboxStore, record: Record) -> str:
    return f"{PORTAL_URL}/vendor/key_login/{record.get('contact_key', '')}"


def invitation_link(store: SandboxStore, record: Record) -> str:
    singular = {"invoices": "invoice", "quotes": "quote", "credits": "credit",
                "recurring_invoices": "recurring_invoice"}
    return f"{PORTAL_URL}/client/{singular.get(record['entity_type'], 'invoice')}/{record['key']}"


def task_duration(store: SandboxStore, record: Record) -> int:
    """Seconds logged in time_log ([[start, end], ...]; an end of 0 means still running)."""
    total = 0
    for entry in parse_time_log(record.get("time_log")):
        start, end = entry[0], entry[1] if len(entry) > 1 else 0
        total += max(0, int((end or store.now()) - start))
    return total


def task_is_running(store: SandboxStore, record: Record) -> bool:
    log = parse_time_log(record.get("time_log"))
    return bool(log) and (len(log[-1]) < 2 or not log[-1][1])


def parse_time_log(raw: object) -> list[list]:
    try:
        log = json.loads(raw) if isinstance(raw, str) else raw
    except ValueError:
        return []
    if not isinstance(log, list):
        return []
    return [entry for entry in log if isinstance(entry, list) and entry and isinstance(entry[0], (int, float))]


def project_current_hours(store: SandboxStore, record: Record) -> int:
    tasks = store.table("tasks").where(project_id=record["id"], is_deleted=False)
    return round(sum(task_duration(store, task) for task in tasks) / 3600)


def document_url(store: SandboxStore, record: Record) -> str:
    return f"{PORTAL_URL}/storage/{record['hash']}/{record['name']}"


def document_link(store: SandboxStore, record: Record) -> str:
    return f"{PORTAL_URL}/documents/{record['hash']}"


def blank(value: Any) -> Computed:
    return lambda store, record: value


# ---------------------------------------------------------------------------------------------
# Field lists (v5-api.md §4)

CLIENT_FIELDS: dict[str, Any] = {
    "id": "", "user_id": "", "assigned_user_id": "", "name": "", "website": "", "private_notes": "",
    "balance": 0.0, "group_settings_id": "", "paid_to_date": 0.0, "payment_balance": 0.0,
    "credit_balance": 0.0, "last_login": 0, "size_id": "", "public_notes": "", "client_hash": "",
    "address1": "", "address2": "", "phone": "", "city": "", "state": "", "postal_code": "",
    "country_id": "", "industry_id": "", **custom_values(),
    "shipping_address1": "", "shipping_address2": "", "shipping_city": "", "shipping_state": "",
    "shipping_postal_code": "", "shipping_country_id": "", "settings": {}, "is_deleted": False,
    "vat_number": "", "id_number": "", "updated_at": 0, "archived_at": 0, "created_at": 0,
    "display_name": "", "number": "", "has_valid_vat_number": False, "is_tax_exempt": False,
    "routing_id": "", "tax_info": {}, "classification": "", "e_invoice": {},
}

CLIENT_CONTACT_FIELDS: dict[str, Any] = {
    "id": "", "first_name": "", "last_name": "", "email": "", **timestamps(), "is_primary": False,
    "is_locked": False, "phone": "", **custom_values(), "contact_key": "", "send_email": True,
    "last_login": 0, "password": "", "link": "",
}

INVOICE_LIKE_FIELDS: dict[str, Any] = {
    "id": "", "user_id": "", "project_id": "", "assigned_user_id": "", "amount": 0.0, "balance": 0.0,
    "client_id": "", "vendor_id": "", "status_id": "1", "design_id": "", "recurring_id": "",
    **timestamps(), "is_deleted": False, "number": "", "discount": 0.0, "po_number": "", "date": "",
    "last_sent_date": "", "next_send_date": "", "due_date": "", "terms": "", "public_notes": "",
    "private_notes": "", "uses_inclusive_taxes": False, **taxes(), "total_taxes": 0.0,
    "is_amount_discount": False, "footer": "", "partial": 0.0, "partial_due_date": "",
    **custom_values(), "has_tasks": False, "has_expenses": False,
    **{f"custom_surcharge{n}": 0.0 for n in range(1, 5)}, "exchange_rate": 1.0,
    **{f"custom_surcharge_tax{n}": False for n in range(1, 5)}, "line_items": [],
    "entity_type": "invoice", "reminder1_sent": "", "reminder2_sent": "", "reminder3_sent": "",
    "reminder_last_sent": "", "paid_to_date": 0.0, "subscription_id": "", "auto_bill_enabled": False,
    "tax_info": {}, "e_invoice": {},
}
INVOICE_FIELDS = INVOICE_LIKE_FIELDS
QUOTE_FIELDS = {
    **{k: v for k, v in INVOICE_LIKE_FIELDS.items() if k != "auto_bill_enabled"},
    "invoice_id": "", "entity_type": "quote",
}
CREDIT_FIELDS = {**INVOICE_LIKE_FIELDS, "invoice_id": "", "entity_type": "credit"}
RECURRING_INVOICE_FIELDS = {
    **INVOICE_LIKE_FIELDS, "entity_type": "recurringInvoice", "frequency_id": "5", "remaining_cycles": -1,
    "recurring_dates": [], "auto_bill": "off", "due_date_days": "", "next_send_datetime": "",
}
INVOICE_LIKE_READONLY = ALWAYS_READONLY | {
    "amount", "balance", "paid_to_date", "total_taxes", "status_id", "entity_type", "has_tasks",
    "has_expenses", "last_sent_date", "reminder1_sent", "reminder2_sent", "reminder3_sent",
    "reminder_last_sent",
}
INVOICE_LIKE_FOREIGN_KEYS: dict[str, str | None] = {
    "user_id": "users", "project_id": "projects", "assigned_user_id": "users", "client_id": "clients",
    "vendor_id": "vendors", "design_id": None, "recurring_id": "recurring_invoices", "subscription_id": None,
}

INVITATION_FIELDS: dict[str, Any] = {
    "id": "", "client_contact_id": "", "key": "", "link": "", "sent_date": "", "viewed_date": "",
    "opened_date": "", "updated_at": 0, "archived_at": 0, "created_at": 0, "email_status": "",
    "email_error": "", "message_id": "",
}

PAYMENT_FIELDS: dict[str, Any] = {
    "id": "", "user_id": "", "assigned_user_id": "", "amount": 0.0, "refunded": 0.0, "applied": 0.0,
    "transaction_reference": "", "transaction_id": "", "date": "", "is_manual": True, **timestamps(),
    "is_deleted": False, "type_id": "", "invitation_id": "", "private_notes": "", "number": "",
    **custom_values(), "client_id": "", "client_contact_id": "", "company_gateway_id": "",
    "gateway_type_id": "", "status_id": "4", "project_id": "", "vendor_id": "", "currency_id": "1",
    "exchange_rate": 1.0, "exchange_currency_id": "",
}

PRODUCT_FIELDS: dict[str, Any] = {
    "id": "", "user_id": "", "assigned_user_id": "", "product_key": "", "notes": "", "cost": 0.0,
    "price": 0.0, "quantity": 1.0, **taxes(), **timestamps(), **custom_values(), "is_deleted": False,
    "in_stock_quantity": 0, "stock_notification": True, "stock_notification_threshold": 0,
    "max_quantity": 0, "product_image": "", "tax_id": "1",
}

TAX_RATE_FIELDS: dict[str, Any] = {
    "id": "", "name": "", "rate": 0.0, "is_deleted": False, "updated_at": 0, "archived_at": 0, "created_at": 0,
}

TASK_FIELDS: dict[str, Any] = {
    "id": "", "user_id": "", "assigned_user_id": "", "number": "", "description": "", "duration": 0,
    "rate": 0.0, **timestamps(), "invoice_id": "", "client_id": "", "project_id": "", "is_deleted": False,
    "time_log": "[]", "is_running": False, **custom_values(), "status_id": "", "status_sort_order": 0,
    "is_date_based": False, "status_order": 0, "date": "",
}

TASK_STATUS_FIELDS: dict[str, Any] = {
    "id": "", "name": "", "color": "#fff", "is_deleted": False, **timestamps(), "status_order": 0,
}

PROJECT_FIELDS: dict[str, Any] = {
    "id": "", "user_id": "", "assigned_user_id": "", "client_id": "", "name": "", "number": "",
    **timestamps(), "is_deleted": False, "task_rate": 0.0, "due_date": "", "private_notes": "",
    "public_notes": "", "budgeted_hours": 0.0, **custom_values(), "color": "#fff", "current_hours": 0,
}

EXPENSE_FIELDS: dict[str, Any] = {
    "id": "", "user_id": "", "assigned_user_id": "", "vendor_id": "", "invoice_id": "", "client_id": "",
    "bank_id": "", "invoice_currency_id": "", "expense_currency_id": "", "currency_id": "",
    "category_id": "", "payment_type_id": "", "recurring_expense_id": "", "is_deleted": False,
    "should_be_invoiced": False, "invoice_documents": False, "amount": 0.0, "foreign_amount": 0.0,
    "exchange_rate": 1.0, **taxes(), "private_notes": "", "public_notes": "",
    "transaction_reference": "", "transaction_id": "", "date": "", "number": "", "payment_date": "",
    **custom_values(), "updated_at": 0, "archived_at": 0, "created_at": 0, "project_id": "",
    "tax_amount1": 0.0, "tax_amount2": 0.0, "tax_amount3": 0.0, "uses_inclusive_taxes": False,
    "calculate_tax_by_amount": False, "entity_type": "expense", "e_invoice": {},
}

EXPENSE_CATEGORY_FIELDS: dict[str, Any] = {
    "id": "", "user_id": "", "name": "", "color": "#fff", "is_deleted": False, "updated_at": 0,
    "archived_at": 0, "created_at": 0,
}

VENDOR_FIELDS: dict[str, Any] = {
    "id": "", "user_id": "", "assigned_user_id": "", "name": "", "website": "", "private_notes": "",
    "public_notes": "", "last_login": 0, "address1": "", "address2": "", "phone": "", "city": "",
    "state": "", "postal_code": "", "country_id": "", "currency_id": "", **custom_values(),
    "is_deleted": False, "vat_number": "", "id_number": "", "updated_at": 0, "archived_at": 0,
    "created_at": 0, "number": "", "language_id": "", "classification": "", "display_name": "",
    "routing_id": "",
}

VENDOR_CONTACT_FIELDS: dict[str, Any] = {
    "id": "", "first_name": "", "last_name": "", "send_email": False, "email": "", **timestamps(),
    "is_primary": False, "phone": "", **custom_values(), "link": "", "last_login": 0, "password": "",
}

DOCUMENT_FIELDS: dict[str, Any] = {
    "id": "", "user_id": "", "assigned_user_id": "", "project_id": "", "vendor_id": "", "url": "",
    "preview": "", "name": "", "type": "", "disk": "public", "hash": "", "size": 0, "width": 0,
    "height": 0, "is_default": False, "updated_at": 0, "archived_at": 0, "created_at": 0,
    "is_deleted": False, "is_public": True, "link": "",
}

USER_FIELDS: dict[str, Any] = {
    "id": "", "first_name": "", "last_name": "", "email": "", "last_login": 0, **timestamps(),
    "is_deleted": False, "phone": "", "email_verified_at": 0, "signature": "", **custom_values(),
    "oauth_provider_id": "", "last_confirmed_email_address": "", "google_2fa_secret": False,
    "has_password": True, "oauth_user_token": "***", "verified_phone_number": False, "language_id": "",
    "user_logged_in_notification": True, "referral_code": "", "referral_meta": {},
}

PAYMENT_TERM_FIELDS: dict[str, Any] = {  # PaymentTermTransformer
    "id": "", "num_days": 0, "name": "", "is_deleted": False, "created_at": 0, "updated_at": 0, "archived_at": 0,
}

WEBHOOK_FIELDS: dict[str, Any] = {
    "id": "", "company_id": "", "user_id": "", "archived_at": 0, "updated_at": 0, "created_at": 0,
    "is_deleted": False, "target_url": "", "event_id": "", "format": "JSON", "rest_method": "post",
    "headers": {},
}

# Eloquent relations most models have; valid in `?include=` on lists even when nothing is rendered.
COMMON_RELATIONS = frozenset({"user", "assigned_user", "company", "documents"})


def invoice_like(name: str, model: str, fields: dict, foreign_keys: dict, includes: dict, silent: set) -> Entity:
    return Entity(
        name=name,
        model=model,
        fields=fields,
        foreign_keys=foreign_keys,
        readonly=INVOICE_LIKE_READONLY,
        includes={
            "invitations": invitations_of(name),
            "documents": documents_of(name),
            "client": belongs_to("clients", "client_id"),
            "activities": empty_list,
            **includes,
        },
        default_includes=("invitations", "documents"),
        silent_relations=COMMON_RELATIONS | {"project", "vendor", "history", "design"} | silent,
        search_fields=("number", "po_number", "public_notes", "private_notes"),
        filters=frozenset({"status_id", "client_status"}),
    )


ENTITY_LIST: list[Entity] = [
    Entity(
        name="clients",
        model="Client",
        fields=CLIENT_FIELDS,
        foreign_keys={"user_id": "users", "assigned_user_id": "users", "group_settings_id": None},
        computed={"display_name": client_display_name},
        readonly=ALWAYS_READONLY | {"balance", "paid_to_date", "payment_balance", "credit_balance",
                                    "last_login", "client_hash", "display_name", "has_valid_vat_number"},
        includes={
            "contacts": contacts_of("client_contacts", "client_id"),
            "documents": documents_of("clients"),
            "gateway_tokens": empty_list,
            "activities": empty_list,
            "ledger": empty_list,
            "system_logs": empty_list,
        },
        default_includes=("contacts", "documents", "gateway_tokens"),
        silent_relations=COMMON_RELATIONS | {"group_settings", "invoices", "quotes", "credits", "payments",
                                             "recurring_invoices", "projects", "tasks", "expenses",
                                             "primary_contact", "country", "shipping_country"},
        search_fields=("name", "number", "id_number", "vat_number", "phone", "city"),
        filters=frozenset({"name", "email", "id_number", "balance"}),
    ),
    Entity(
        name="client_contacts",
        model="ClientContact",
        fields=CLIENT_CONTACT_FIELDS,
        computed={"password": contact_password, "link": contact_link},
        readonly=ALWAYS_READONLY | {"contact_key", "last_login", "link"},
    ),
    invoice_like("invoices", "Invoice", INVOICE_FIELDS, INVOICE_LIKE_FOREIGN_KEYS,
                 {"payments": payments_of("invoices")}, {"credits", "tasks", "expenses", "recurring_invoice"}),
    invoice_like("quotes", "Quote", QUOTE_FIELDS, {**INVOICE_LIKE_FOREIGN_KEYS, "invoice_id": "invoices"},
                 {}, {"invoice"}),
    invoice_like("credits", "Credit", CREDIT_FIELDS, {**INVOICE_LIKE_FOREIGN_KEYS, "invoice_id": "invoices"},
                 {}, {"invoice", "payments"}),
    invoice_like("recurring_invoices", "RecurringInvoice", RECURRING_INVOICE_FIELDS,
                 INVOICE_LIKE_FOREIGN_KEYS, {}, {"invoices"}),
    Entity(
        name="invitations",
        model="InvoiceInvitation",
        fields=INVITATION_FIELDS,
        foreign_keys={"client_contact_id": "client_contacts"},
        computed={"link": invitation_link},
    ),
    Entity(
        name="payments",
        model="Payment",
        fields=PAYMENT_FIELDS,
        foreign_keys={"user_id": "users", "assigned_user_id": "users", "transaction_id": None,
                      "client_id": "clients", "client_contact_id": "client_contacts",
                      "company_gateway_id": None, "project_id": "projects", "vendor_id": "vendors"},
        readonly=ALWAYS_READONLY | {"refunded", "applied", "status_id", "invitation_id", "is_manual"},
        includes={
            "paymentables": payment_paymentables,
            "documents": documents_of("payments"),
            "client": belongs_to("clients", "client_id"),
            "invoices": payment_targets("invoices"),
            "credits": payment_targets("credits"),
            "type": lambda store, record, nested: None,
        },
        default_includes=("paymentables", "documents"),
        silent_relations=COMMON_RELATIONS | {"contact", "company_gateway", "project", "vendor", "currency"},
        search_fields=("number", "transaction_reference", "private_notes"),
        filters=frozenset({"client_status"}),
    ),
    Entity(
        name="products",
        model="Product",
        fields=PRODUCT_FIELDS,
        foreign_keys={"user_id": "users", "assigned_user_id": "users"},
        includes={"documents": documents_of("products"),
                  "user": belongs_to("users", "user_id")},
        default_includes=("documents",),
        silent_relations=COMMON_RELATIONS,
        search_fields=("product_key", "notes", "custom_value1", "custom_value2"),
        filters=frozenset({"product_key"}),
    ),
    Entity(
        name="tax_rates",
        model="TaxRate",
        fields=TAX_RATE_FIELDS,
        silent_relations=frozenset({"user", "company"}),
        search_fields=("name",),
    ),
    Entity(
        name="tasks",
        model="Task",
        fields=TASK_FIELDS,
        foreign_keys={"user_id": "users", "assigned_user_id": "users", "invoice_id": "invoices",
                      "client_id": "clients", "project_id": "projects", "status_id": "task_statuses"},
        computed={"duration": task_duration, "is_running": task_is_running},
        readonly=ALWAYS_READONLY | {"duration", "is_running", "status_sort_order"},
        includes={
            "documents": documents_of("tasks"),
            "project": belongs_to("projects", "project_id"),
            "client": belongs_to("clients", "client_id"),
            "status": belongs_to("task_statuses", "status_id"),
            "user": belongs_to("users", "user_id"),
            "invoice": belongs_to("invoices", "invoice_id"),
            "assigned_user": belongs_to("users", "assigned_user_id"),
        },
        default_includes=("documents", "project"),
        silent_relations=COMMON_RELATIONS,
        search_fields=("number", "description"),
        filters=frozenset({"project_tasks", "task_status"}),
    ),
    Entity(
        name="task_statuses",
        model="TaskStatus",
        fields=TASK_STATUS_FIELDS,
        silent_relations=frozenset({"user", "company", "tasks"}),
        search_fields=("name",),
    ),
    Entity(
        name="projects",
        model="Project",
        fields=PROJECT_FIELDS,
        foreign_keys={"user_id": "users", "assigned_user_id": "users", "client_id": "clients"},
        computed={"current_hours": project_current_hours},
        readonly=ALWAYS_READONLY | {"current_hours"},
        includes={
            "documents": documents_of("projects"),
            "client": belongs_to("clients", "client_id"),
            "tasks": children("tasks", "project_id"),
            "invoices": children("invoices", "project_id"),
            "expenses": children("expenses", "project_id"),
            "quotes": children("quotes", "project_id"),
        },
        default_includes=("documents",),
        silent_relations=COMMON_RELATIONS,
        search_fields=("name", "number", "public_notes", "private_notes"),
    ),
    Entity(
        name="expenses",
        model="Expense",
        fields=EXPENSE_FIELDS,
        foreign_keys={"user_id": "users", "assigned_user_id": "users", "vendor_id": "vendors",
                      "invoice_id": "invoices", "client_id": "clients", "category_id": "expense_categories",
                      "recurring_expense_id": None, "transaction_id": None, "project_id": "projects"},
        computed={"expense_currency_id": blank("")},
        readonly=ALWAYS_READONLY | {"entity_type", "expense_currency_id"},
        includes={
            "documents": documents_of("expenses"),
            "client": belongs_to("clients", "client_id"),
            "vendor": belongs_to("vendors", "vendor_id"),
            "category": belongs_to("expense_categories", "category_id"),
            "invoice": belongs_to("invoices", "invoice_id"),
        },
        default_includes=("documents",),
        silent_relations=COMMON_RELATIONS | {"project", "currency"},
        search_fields=("number", "public_notes", "private_notes", "transaction_reference"),
        filters=frozenset({"has_invoices"}),
    ),
    Entity(
        name="expense_categories",
        model="ExpenseCategory",
        fields=EXPENSE_CATEGORY_FIELDS,
        foreign_keys={"user_id": "users"},
        silent_relations=frozenset({"user", "company", "expenses"}),
        search_fields=("name",),
    ),
    Entity(
        name="vendors",
        model="Vendor",
        fields=VENDOR_FIELDS,
        foreign_keys={"user_id": "users", "assigned_user_id": "users"},
        computed={"display_name": vendor_display_name},
        readonly=ALWAYS_READONLY | {"last_login", "display_name"},
        includes={
            "contacts": contacts_of("vendor_contacts", "vendor_id"),
            "documents": documents_of("vendors"),
            "activities": empty_list,
        },
        default_includes=("contacts", "documents"),
        silent_relations=COMMON_RELATIONS | {"expenses", "primary_contact", "country", "currency"},
        search_fields=("name", "number", "id_number", "vat_number", "phone", "city"),
        filters=frozenset({"name"}),
    ),
    Entity(
        name="vendor_contacts",
        model="VendorContact",
        fields=VENDOR_CONTACT_FIELDS,
        computed={"password": contact_password, "link": vendor_contact_link},
        readonly=ALWAYS_READONLY | {"last_login", "link"},
    ),
    Entity(
        name="documents",
        model="Document",
        fields=DOCUMENT_FIELDS,
        foreign_keys={"user_id": "users", "assigned_user_id": "users", "project_id": "projects",
                      "vendor_id": "vendors"},
        computed={"url": document_url, "link": document_link, "is_deleted": blank(False)},
        readonly=ALWAYS_READONLY | {"url", "link", "hash", "size", "type", "disk", "width", "height"},
        silent_relations=frozenset({"user", "company", "documentable"}),
        search_fields=("name",),
        filters=frozenset({"type"}),
    ),
    Entity(
        name="users",
        model="User",
        fields=USER_FIELDS,
        readonly=ALWAYS_READONLY | {"last_login", "email_verified_at", "has_password", "oauth_user_token"},
        includes={"companies": empty_list, "company_users": empty_list},
        silent_relations=frozenset({"company_user", "companies", "company_users", "tokens"}),
        search_fields=("first_name", "last_name", "email"),
    ),
    Entity(
        name="payment_terms",
        model="PaymentTerm",
        fields=PAYMENT_TERM_FIELDS,
        silent_relations=frozenset({"user", "company"}),
        search_fields=("name",),
    ),
    Entity(
        name="webhooks",
        model="Webhook",
        fields=WEBHOOK_FIELDS,
        foreign_keys={"company_id": "companies", "user_id": "users"},
        readonly=ALWAYS_READONLY | {"company_id"},
        silent_relations=frozenset({"user", "company"}),
        search_fields=("target_url",),
    ),
]

ENTITIES: dict[str, Entity] = {entity.name: entity for entity in ENTITY_LIST}

# Entities that have their own `/api/v1/{name}` routes (the rest are nested or internal).
ROUTED_ENTITIES = (
    "clients", "invoices", "quotes", "recurring_invoices", "credits", "payments", "products", "tax_rates",
    "tasks", "task_statuses", "projects", "expenses", "expense_categories", "vendors", "documents", "users",
    "webhooks", "payment_terms",
)
