"""The FormRequest rules that matter to a translating proxy, with Laravel's messages.

Validators receive the decoded payload (raw integer keys) and the record being updated (None on create),
and add to a ValidationErrors that is raised as v5's 422.
"""

from __future__ import annotations

import datetime as dt
import json
import re
from typing import Callable

from ninja_bridge.sandbox import billing
from ninja_bridge.sandbox.entities import Entity
from ninja_bridge.sandbox.errors import ApiError, ValidationErrors
from ninja_bridge.sandbox.store import Record, SandboxStore

EMAIL_PATTERN = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
PHP_NUMERIC = re.compile(r"^\s*[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?$")
URL_PATTERN = re.compile(r"^https?://[^\s/$.?#][^\s]*$", re.IGNORECASE)


def list_of_dicts(value: object) -> list[dict]:
    return [item for item in value if isinstance(item, dict)] if isinstance(value, list) else []



def validate(store: SandboxStore, entity: Entity, payload: dict, existing: Record | None) -> None:
    errors = ValidationErrors()
    if "number" in entity.fields:
        check_unique(store, entity.name, payload, existing, errors, "number")
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
    """contacts: an array; each email a distinct valid address; each password strong enough."""
    if "contacts" in payload and payload["contacts"] is not None and not isinstance(payload["contacts"], list):
        errors.not_array("contacts")
        return
    contacts = list_of_dicts(payload.get("contacts"))
    emails = [str(c.get("email")).casefold() for c in contacts if c.get("email")]
    for index, contact in enumerate(contacts):
        email = contact.get("email")
        attribute = f"contacts.{index}.email"
        if email in (None, ""):
            pass
        elif emails.count(str(email).casefold()) > 1:
            errors.add(attribute, f"The {errors.label(attribute)} field has a duplicate value.")
        elif not (isinstance(email, str) and EMAIL_PATTERN.match(email)):
            errors.not_email(attribute)
        check_password(contact.get("password"), f"contacts.{index}.password", errors)


def check_password(password: object, attribute: str, errors: ValidationErrors) -> None:
    # "**********" is what v5 renders for a set password; clients send it back unchanged.
    if password in (None, "", "**********"):
        return
    text = str(password)
    if len(text) < 7:
        errors.add(attribute, f"The {errors.label(attribute)} field must be at least 7 characters.")
    elif not (re.search(r"[a-z]", text) and re.search(r"[A-Z]", text) and re.search(r"[0-9]", text)):
        errors.add(attribute, f"The {errors.label(attribute)} field format is invalid.")


def check_country(payload: dict, errors: ValidationErrors, *fields: str) -> None:
    """`integer|nullable|exists:countries,id`; v5's countries use ISO 3166-1 numeric ids (4..894)."""
    for field in fields:
        value = payload.get(field)
        if value in (None, ""):
            continue
        if isinstance(value, bool) or not re.fullmatch(r"[+-]?\d+", str(value)):
            errors.add(field, f"The {errors.label(field)} field must be an integer.")
        elif not 4 <= int(value) <= 894:
            errors.invalid(field)


def check_unique(store: SandboxStore, kind: str, payload: dict, existing: Record | None, errors: ValidationErrors,
                 field: str) -> None:
    value = payload.get(field)
    if value in (None, ""):
        return
    if any(same_text(row.get(field), value) for row in store.table(kind) if row is not existing):
        errors.taken(field)


def same_text(stored: object, sent: object) -> bool:
    """Uniqueness and lookups compare like MySQL's case-insensitive collation."""
    return str(stored or "").casefold() == str(sent).casefold()


def check_dates(payload: dict, errors: ValidationErrors, *fields: str) -> None:
    """Laravel's `date` rule: anything PHP can parse as a date (the format argument is ignored)."""
    for field in fields:
        value = payload.get(field)
        if value not in (None, "") and parse_date(value) is None:
            errors.not_date(field)


DATE_FORMATS = ("%Y-%m-%d", "%Y-%m-%d %H:%M:%S", "%Y-%m-%dT%H:%M:%S", "%Y/%m/%d", "%m/%d/%Y", "%d-%m-%Y",
                "%d.%m.%Y", "%d %B %Y", "%B %d, %Y", "%d %b %Y", "%b %d, %Y")


def parse_date(value: object) -> str | None:
    """The Y-m-d form of a date PHP's parser would accept (slashes are month first, dashes day first)."""
    if not isinstance(value, str):
        return None
    text = value.strip()
    for candidate in (text, text[:19], text[:10]):
        for pattern in DATE_FORMATS:
            try:
                return dt.datetime.strptime(candidate, pattern).strftime("%Y-%m-%d")
            except ValueError:
                continue
    return None


def is_numeric(value: object) -> bool:
    """PHP's is_numeric, which Laravel's `numeric` rule uses."""
    if isinstance(value, bool):
        return False
    return isinstance(value, (int, float)) or (isinstance(value, str) and bool(PHP_NUMERIC.match(value)))


def check_numbers(payload: dict, errors: ValidationErrors, *fields: str) -> None:
    for field in fields:
        value = payload.get(field)
        if value is not None and not is_numeric(value):
            errors.not_number(field)


CLASSIFICATIONS = ("individual", "business", "company", "partnership", "trust", "charity", "government", "other")


def validate_client(store: SandboxStore, payload: dict, existing: Record | None, errors: ValidationErrors) -> None:
    check_contacts(payload, errors)
    check_unique(store, "clients", payload, existing, errors, "id_number")
    check_country(payload, errors, "country_id", "shipping_country_id")
    if payload.get("classification") not in (None, "") and payload["classification"] not in CLASSIFICATIONS:
        errors.invalid("classification")


def validate_invoice_like(store: SandboxStore, payload: dict, existing: Record | None,
                          errors: ValidationErrors) -> None:
    if existing is None:
        require_existing(store, errors, payload, "client_id", "clients", required=True)
    elif "client_id" in payload and payload["client_id"] != existing["client_id"]:
        errors.invalid("client_id")  # v5: client_id may not change on update ("in:" the current one)
    check_dates(payload, errors, "date", "due_date", "partial_due_date")
    check_numbers(payload, errors, "discount", "tax_rate1", "tax_rate2", "tax_rate3", "exchange_rate", "partial",
                  "amount")
    if "is_amount_discount" in payload and payload["is_amount_discount"] not in (True, False, 0, 1, "0", "1"):
        errors.add("is_amount_discount", "The is amount discount field must be true or false.")
    for index, invitation in enumerate(list_of_dicts(payload.get("invitations"))):
        if invitation.get("client_contact_id") in (None, ""):
            errors.required(f"invitations.{index}.client_contact_id")


def validate_payment(store: SandboxStore, payload: dict, existing: Record | None, errors: ValidationErrors) -> None:
    """StorePaymentRequest's rules, with the messages of its custom rules."""
    if existing is not None:
        return
    require_existing(store, errors, payload, "client_id", "clients", required=True)
    check_numbers(payload, errors, "amount")
    check_dates(payload, errors, "date")
    invoices = payload.get("invoices")
    if invoices is not None and not isinstance(invoices, list):
        errors.not_array("invoices")
        invoices = None
    lines = [line if isinstance(line, dict) else {} for line in invoices or []]
    problem = invoices_problem(store, payload, lines) if lines else None
    sent_ids = [str(line.get("invoice_id")) for line in lines]
    for index, line in enumerate(lines):
        attribute = f"invoices.{index}.invoice_id"
        if line.get("invoice_id") in (None, ""):
            errors.required(attribute)
        elif sent_ids.count(str(line["invoice_id"])) > 1:
            errors.add(attribute, f"The {errors.label(attribute)} field has a duplicate value.")
        elif problem:
            errors.add(attribute, problem)
        if line.get("amount") is None:
            errors.required(f"invoices.{index}.amount")
    for index, line in enumerate(list_of_dicts(payload.get("credits"))):
        attribute = f"credits.{index}.credit_id"
        credit = store.table("credits").get(line.get("credit_id"))
        if line.get("credit_id") in (None, ""):
            errors.required(attribute)
        elif credit is None or credit["client_id"] != payload.get("client_id"):
            errors.invalid(attribute)
        if line.get("amount") is None:
            errors.required(f"credits.{index}.amount")
    if not amounts_balance(payload, lines):
        errors.add("amount", "Amounts do not balance correctly.")


def invoices_problem(store: SandboxStore, payload: dict, lines: list[dict]) -> str | None:
    """ValidInvoicesRules: one message for the whole list, reported on every invoice line."""
    if payload.get("client_id") is None:
        return "Client id is required"
    for line in lines:
        if "amount" not in line:
            return "Amount required"
        invoice = store.table("invoices").get(line.get("invoice_id"))
        if invoice is None:
            return "The requested invoice is not available"
        if invoice["client_id"] != payload["client_id"]:
            return "Selected invoices are not from a single client"
        amount = billing.to_float(line["amount"])
        if invoice["status_id"] == billing.DRAFT:
            if amount > invoice["amount"]:
                return "Amount cannot be greater than invoice balance"
        elif amount > invoice["balance"]:
            return "The amount is greater than the invoice balance. You cannot overpay an invoice."
        elif invoice["is_deleted"]:
            return "One or more invoices in this request have since been deleted"
    return None


def amounts_balance(payload: dict, lines: list[dict]) -> bool:
    """PaymentAmountsBalanceRule: a given amount (plus credits) must cover what is applied to invoices."""
    amount = billing.to_float(payload.get("amount"))
    if payload.get("amount") is None or amount == 0 or not lines:
        return True
    paid = amount + sum(billing.to_float(c.get("amount")) for c in list_of_dicts(payload.get("credits")))
    applied = sum(billing.to_float(line.get("amount")) for line in lines)
    return round(paid, 2) >= round(applied, 2)


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


def validate_recurring_invoice(store: SandboxStore, payload: dict, existing: Record | None,
                               errors: ValidationErrors) -> None:
    """StoreRecurringInvoiceRequest: the invoice rules plus frequency_id required, an integer 1-12."""
    validate_invoice_like(store, payload, existing, errors)
    frequency = payload.get("frequency_id")
    if existing is None and frequency in (None, ""):
        errors.required("frequency_id")
    elif frequency not in (None, "") and not (str(frequency).isdigit() and 1 <= int(str(frequency)) <= 12):
        errors.add("frequency_id", "The frequency id field must be between 1 and 12 digits.")


def validate_payment_term(store: SandboxStore, payload: dict, existing: Record | None,
                          errors: ValidationErrors) -> None:
    """StorePaymentTermRequest: num_days required and numeric."""
    if existing is None and payload.get("num_days") in (None, ""):
        errors.required("num_days")
    check_numbers(payload, errors, "num_days")


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

def validate_user(store: SandboxStore, payload: dict, existing: Record | None, errors: ValidationErrors) -> None:
    email = payload.get("email")
    if existing is None and email in (None, ""):
        errors.required("email")
    elif email is not None and not (isinstance(email, str) and EMAIL_PATTERN.match(email)):
        errors.not_email("email")
    else:
        check_unique(store, "users", payload, existing, errors, "email")


Validator = Callable[[SandboxStore, dict, "Record | None", ValidationErrors], None]
VALIDATORS: dict[str, Validator] = {
    "payment_terms": validate_payment_term,
    "clients": validate_client,
    "invoices": validate_invoice_like,
    "quotes": validate_invoice_like,
    "credits": validate_invoice_like,
    "recurring_invoices": validate_recurring_invoice,
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
    "users": validate_user,
}
