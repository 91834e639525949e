"""Money rules: invoice totals from line items, payments applied to invoices, client balances.

Deliberately simpler than v5's InvoiceSum (no inclusive-tax rounding subtleties, no pro-rata discount
on line taxes) but with the same observable shape: amount, balance, paid_to_date, total_taxes,
status moving draft -> sent -> partial -> paid, and the client's balance/paid_to_date following.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from ninja_bridge.sandbox.errors import ApiError
from ninja_bridge.sandbox.store import Record, SandboxStore

DRAFT, SENT, PARTIAL, PAID, CANCELLED, REVERSED = "1", "2", "3", "4", "5", "6"
QUOTE_APPROVED, QUOTE_CONVERTED = "3", "4"
CREDIT_APPLIED = "4"
RECURRING_ACTIVE, RECURRING_PAUSED = "2", "3"
PAYMENT_COMPLETED = "4"
PAYMENT_CANCELLED = "2"
OPEN_STATUSES = (SENT, PARTIAL)

LINE_ITEM_DEFAULTS: dict[str, Any] = {
    "quantity": 0.0, "cost": 0.0, "product_key": "", "product_cost": 0.0, "notes": "", "discount": 0.0,
    "is_amount_discount": False, "tax_name1": "", "tax_rate1": 0.0, "tax_name2": "", "tax_rate2": 0.0,
    "tax_name3": "", "tax_rate3": 0.0, "sort_id": "0", "line_total": 0.0, "gross_line_total": 0.0,
    "tax_amount": 0.0, "date": "", "custom_value1": "", "custom_value2": "", "custom_value3": "",
    "custom_value4": "", "type_id": "1", "tax_id": "", "task_id": "", "expense_id": "", "unit_code": "C62",
}


def money(value: float) -> float:
    return round(value + 0.0, 2)


def to_float(value: object) -> float:
    """PHP-style lenient cast: anything non-numeric is 0."""
    try:
        return float(value)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return 0.0


def today(store: SandboxStore) -> str:
    return dt.datetime.fromtimestamp(store.now(), dt.timezone.utc).strftime("%Y-%m-%d")


def clean_line_items(items: object) -> list[dict]:
    """v5 casts every line item to its InvoiceItem shape; line items never carry an id."""
    if not isinstance(items, list):
        return []
    cleaned = []
    for item in items:
        if not isinstance(item, dict):
            continue
        line = dict(LINE_ITEM_DEFAULTS)
        for key, default in LINE_ITEM_DEFAULTS.items():
            value = item.get(key)
            if value is None:
                continue
            if isinstance(default, bool):
                line[key] = value in (True, 1, "1", "true", "on", "yes")
            elif isinstance(default, float):
                line[key] = to_float(value)
            else:
                # task_id/expense_id stay as sent (v5 keeps the hash string in the JSON column).
                line[key] = str(int(value)) if isinstance(value, float) and value.is_integer() else str(value)
        cleaned.append(line)
    return cleaned


def compute_totals(record: Record) -> None:
    """Fills line totals and the document's amount, total_taxes and balance."""
    inclusive = bool(record.get("uses_inclusive_taxes"))
    amount_discount = bool(record.get("is_amount_discount"))
    subtotal = 0.0
    line_taxes = 0.0
    for item in record.get("line_items", []):
        gross = item["quantity"] * item["cost"]
        discount = item["discount"] if amount_discount else gross * item["discount"] / 100
        line_total = money(gross - discount)
        rates = [item[f"tax_rate{n}"] for n in (1, 2, 3)]
        tax = sum(tax_on(line_total, rate, inclusive) for rate in rates)
        item["is_amount_discount"] = amount_discount
        item["line_total"] = line_total
        item["tax_amount"] = money(tax)
        item["gross_line_total"] = money(line_total if inclusive else line_total + tax)
        subtotal += line_total
        line_taxes += tax
    discount = to_float(record.get("discount"))
    invoice_discount = discount if amount_discount else subtotal * discount / 100
    taxable = subtotal - invoice_discount
    invoice_taxes = sum(tax_on(taxable, to_float(record.get(f"tax_rate{n}")), inclusive) for n in (1, 2, 3))
    surcharges = sum(to_float(record.get(f"custom_surcharge{n}")) for n in range(1, 5))
    total_taxes = line_taxes + invoice_taxes
    record["total_taxes"] = money(total_taxes)
    record["amount"] = money(taxable + surcharges + (0 if inclusive else total_taxes))
    if record.get("status_id") not in (CANCELLED, REVERSED):
        record["balance"] = money(record["amount"] - record.get("paid_to_date", 0.0))


def tax_on(base: float, rate: float, inclusive: bool) -> float:
    if not rate:
        return 0.0
    return base - base / (1 + rate / 100) if inclusive else base * rate / 100


def settle_status(record: Record) -> None:
    """After money moved: paid when nothing is owed, partial when something was paid."""
    if record["status_id"] in (DRAFT, CANCELLED, REVERSED):
        return
    if record["paid_to_date"] > 0 and record["balance"] <= 0:
        record["status_id"] = PAID
    elif record["paid_to_date"] > 0:
        record["status_id"] = PARTIAL
    else:
        record["status_id"] = SENT


def recalculate_client(store: SandboxStore, client_key: int | None) -> None:
    """Client balances as v5 keeps them: open invoices owed, payments received, credit available."""
    client = store.table("clients").get(client_key)
    if client is None:
        return
    invoices = store.table("invoices").where(client_id=client_key, is_deleted=False)
    payments = store.table("payments").where(client_id=client_key, is_deleted=False)
    credits = store.table("credits").where(client_id=client_key, is_deleted=False)
    client["balance"] = money(sum(i["balance"] for i in invoices if i["status_id"] in OPEN_STATUSES))
    client["paid_to_date"] = money(sum(p["amount"] - p["refunded"] for p in payments))
    client["payment_balance"] = money(sum(p["amount"] - p["applied"] - p["refunded"] for p in payments))
    client["credit_balance"] = money(sum(c["balance"] for c in credits if c["status_id"] in OPEN_STATUSES))


def mark_sent(store: SandboxStore, kind: str, record: Record) -> bool:
    """Draft -> sent, like v5's MarkSent: due date from the payment terms, invitations stamped sent.

    Returns True when the status changed (a "sent" event was emitted)."""
    if record["status_id"] != DRAFT or record.get("is_deleted"):
        return False
    record["status_id"] = SENT
    record["updated_at"] = store.now()
    fill_due_date(store, record)
    for invitation in store.table("invitations").where(entity_type=kind, entity_id=record["id"]):
        invitation["sent_date"] = invitation["sent_date"] or timestamp(store)
        invitation["updated_at"] = store.now()
    if kind in ("invoices", "credits"):
        settle_status(record)
        recalculate_client(store, record["client_id"])
    store.emit("sent", kind, record)
    return True


def fill_due_date(store: SandboxStore, record: Record) -> None:
    """An empty due date becomes date + payment_terms days (client setting, else the company's)."""
    client = store.table("clients").get(record.get("client_id")) or {}
    terms = client.get("settings", {}).get("payment_terms", store.company.get("settings", {}).get("payment_terms"))
    if record.get("due_date") or terms in (None, "") or not record.get("date"):
        return
    start = dt.datetime.strptime(record["date"], "%Y-%m-%d")
    due = (start + dt.timedelta(days=int(to_float(terms)))).strftime("%Y-%m-%d")
    if to_float(record.get("partial")) > 0 and not record.get("partial_due_date"):
        record["partial_due_date"] = due
    else:
        record["due_date"] = due


def timestamp(store: SandboxStore) -> str:
    """A datetime column as v5 renders it unformatted (invitation sent/viewed dates)."""
    return dt.datetime.fromtimestamp(store.now(), dt.timezone.utc).strftime("%Y-%m-%d %H:%M:%S")


def apply_to_document(store: SandboxStore, kind: str, document: Record, amount: float) -> None:
    """Money from a payment lands on an invoice (or is drawn from a credit)."""
    if document["status_id"] == DRAFT:
        mark_sent(store, kind, document)
    document["paid_to_date"] = money(document["paid_to_date"] + amount)
    document["balance"] = money(document["balance"] - amount)
    document["updated_at"] = store.now()
    settle_status(document)
    store.emit("update", kind, document)


def create_payment(store: SandboxStore, fields: Record, invoices: list[dict], credits: list[dict]) -> Record:
    """Stores a payment and applies it: invoices[] {invoice_id, amount}, credits[] {credit_id, amount}."""
    invoice_total = sum(to_float(line.get("amount")) for line in invoices)
    credit_total = sum(to_float(line.get("amount")) for line in credits)
    payment = fields
    if payment.get("amount") is None:
        payment["amount"] = money(invoice_total - credit_total)
    payment["applied"] = money(invoice_total)
    payment["date"] = payment.get("date") or today(store)
    store.table("payments").insert(payment)
    for kind, lines, key in (("invoices", invoices, "invoice_id"), ("credits", credits, "credit_id")):
        for line in lines:
            document = store.table(kind).get(line.get(key))
            amount = to_float(line.get("amount"))
            link_payment(store, payment, kind, document["id"], amount)
            apply_to_document(store, kind, document, amount)
    recalculate_client(store, payment["client_id"])
    return payment


def link_payment(store: SandboxStore, payment: Record, kind: str, document_key: int, amount: float) -> None:
    now = store.now()
    store.table("paymentables").insert({
        "payment_id": payment["id"], "paymentable_type": kind, "paymentable_id": document_key,
        "amount": money(amount), "refunded": 0.0, "created_at": now, "updated_at": now, "archived_at": 0,
    })


def active_links(store: SandboxStore, **match: object) -> list[Record]:
    """Paymentables that are not soft-deleted (a deleted payment or invoice soft-deletes its links; Eloquent
    relations then leave them out)."""
    return [link for link in store.table("paymentables").where(**match) if not link["archived_at"]]


def cancel_payment(store: SandboxStore, payment: Record) -> None:
    """DeletePayment: status cancelled, the money goes back to its invoices and credits, links soft-deleted."""
    payment["status_id"] = PAYMENT_CANCELLED
    for link in active_links(store, payment_id=payment["id"]):
        document = store.table(link["paymentable_type"]).get(link["paymentable_id"])
        link["archived_at"] = store.now()
        if document is None:
            continue
        amount = link["amount"] - link["refunded"]
        document["paid_to_date"] = money(document["paid_to_date"] - amount)
        document["balance"] = money(document["balance"] + amount)
        document["updated_at"] = store.now()
        settle_status(document)
        store.emit("update", link["paymentable_type"], document)
    recalculate_client(store, payment["client_id"])


DELETED_NUMBER_SUFFIX = "_Deleted"  # "_" . ctrans('texts.deleted')


def delete_invoice(store: SandboxStore, invoice: Record) -> None:
    """MarkInvoiceDeleted: the number gets a _Deleted suffix and the payments shrink by what they paid here.

    Payments that paid nothing else are deleted along with the invoice; the client's balance and paid to
    date drop accordingly (recalculated from what remains)."""
    invoice["number"] = free_number(store, f"{invoice['number']}{DELETED_NUMBER_SUFFIX}")
    paid_here = move_invoice_payments(store, invoice, sign=-1)
    payments = [store.table("payments").get(key) for key in paid_here]
    adjustment = sum(paid_here.values())
    total = sum(p["amount"] + paid_here[p["id"]] - p["refunded"] for p in payments)  # before the shrink
    if payments and money(adjustment) == money(total):
        for payment in payments:
            payment["is_deleted"] = True
            payment["archived_at"] = payment["archived_at"] or store.now()
    recalculate_client(store, invoice["client_id"])


def restore_invoice(store: SandboxStore, invoice: Record) -> None:
    """HandleRestore: the number loses its _Deleted suffix (or takes the next free one), payments grow back."""
    original, _, _ = invoice["number"].partition(DELETED_NUMBER_SUFFIX)
    if original and not store.table("invoices").where(number=original):
        invoice["number"] = original
    elif original != invoice["number"]:
        invoice["number"] = next_number(store, "invoices")
    paid_here = move_invoice_payments(store, invoice, sign=+1)
    for key in paid_here:
        payment = store.table("payments").get(key)
        payment["is_deleted"] = False
        payment["archived_at"] = 0
    recalculate_client(store, invoice["client_id"])


def move_invoice_payments(store: SandboxStore, invoice: Record, sign: int) -> dict[int, float]:
    """Takes (sign=-1) or gives back (+1) what each payment applied to this invoice; returns those amounts."""
    deleting = sign < 0
    paid_here: dict[int, float] = {}
    for link in store.table("paymentables").where(paymentable_type="invoices", paymentable_id=invoice["id"]):
        if bool(link["archived_at"]) == deleting:
            continue  # deleting touches live links, restoring the soft-deleted ones
        link["archived_at"] = store.now() if deleting else 0
        paid_here[link["payment_id"]] = paid_here.get(link["payment_id"], 0.0) + link["amount"] - link["refunded"]
    for key, amount in paid_here.items():
        payment = store.table("payments").get(key)
        payment["amount"] = money(payment["amount"] + sign * amount)
        payment["applied"] = money(payment["applied"] + sign * amount)
    return paid_here


def free_number(store: SandboxStore, wanted: str) -> str:
    """`wanted`, or wanted_1, wanted_2, ... whichever is not taken yet."""
    taken = {row["number"] for row in store.table("invoices")}
    candidate, counter = wanted, 0
    while candidate in taken:
        counter += 1
        candidate = f"{wanted}_{counter}"
    return candidate


def mark_paid(store: SandboxStore, kind: str, record: Record, user_key: int | None) -> Record | None:
    """Pays the whole balance with a new payment (invoices), or uses a credit up (credits)."""
    if record["is_deleted"] or record["status_id"] in (PAID, CANCELLED, REVERSED):
        raise ApiError(400, {"error": {"message": "Invoice cannot be marked as paid"}})
    if kind == "credits":
        mark_sent(store, kind, record)
        record["paid_to_date"] = money(record["paid_to_date"] + record["balance"])
        record["balance"] = 0.0
        record["status_id"] = CREDIT_APPLIED
        recalculate_client(store, record["client_id"])
        return None
    now = store.now()
    fields = {
        "user_id": user_key, "assigned_user_id": None, "client_id": record["client_id"],
        "amount": record["balance"], "refunded": 0.0, "type_id": "1", "status_id": PAYMENT_COMPLETED,
        "number": next_number(store, "payments"), "is_manual": True, "is_deleted": False,
        "created_at": now, "updated_at": now, "archived_at": 0,
    }
    payment = create_payment(store, fields, [{"invoice_id": record["id"], "amount": record["balance"]}], [])
    store.emit("create", "payments", payment)
    return payment


def cancel_invoice(store: SandboxStore, invoice: Record) -> None:
    if invoice["status_id"] in (SENT, PARTIAL):
        invoice["status_id"] = CANCELLED
        invoice["balance"] = 0.0
        invoice["updated_at"] = store.now()
        recalculate_client(store, invoice["client_id"])
        store.emit("update", "invoices", invoice)


def next_number(store: SandboxStore, kind: str) -> str:
    """v5's default counter pattern: a 4-digit zero-padded sequence, skipping numbers in use."""
    table = store.table(kind)
    used = {row.get("number") for row in table}
    counter = len(table) + 1
    while f"{counter:04d}" in used:
        counter += 1
    return f"{counter:04d}"
