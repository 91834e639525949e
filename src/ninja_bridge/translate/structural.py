"""What cannot be data: computed v4 fields and structural request rewrites, each a small named
function that a mapping file refers to by name (``computed:`` and ``rewrites:``)."""

from __future__ import annotations

import json
import re
import time
from datetime import datetime, timezone
from typing import TYPE_CHECKING, Any, Awaitable, Callable

from .. import errors
from .plan import OMIT, Context

if TYPE_CHECKING:
    from ..proxy import Exchange


# -- computed v4 fields: (v5 object, context) -> v4 value ---------------------------------------

def is_owner(obj: dict, ctx: Context) -> bool:
    return True  # the token's user sees records through their own token


def user_id_when_created(obj: dict, ctx: Context) -> Any:
    # v4 showed user_id only when the user relation was loaded, i.e. on create answers.
    user = obj.get("user_id")
    if not ctx.created or not user or ctx.ids is None:
        return OMIT
    return ctx.ids.to_v4("user", user)


def line_item_number(obj: dict, ctx: Context) -> int:
    return ctx.position + 1


def invoice_is_public(obj: dict, ctx: Context) -> bool:
    return str(obj.get("status_id", "1")) != "1"  # v4 drafts were the only private invoices


def is_quote_kind(obj: dict, ctx: Context) -> bool:
    return obj.get("entity_type") == "quote"


def invoice_filename(obj: dict, ctx: Context) -> str:
    prefix = "Quote" if obj.get("entity_type") == "quote" else "Invoice"
    return f"{prefix}_{obj.get('number') or ''}.pdf"


def parse_v5_time_log(raw: Any) -> list[list]:
    """v5 keeps a task's time as a JSON string of [start, end|0, description, billable] entries."""
    try:
        log = json.loads(raw) if isinstance(raw, str) else raw
    except ValueError:
        return []
    return [entry for entry in log or () if isinstance(entry, list) and entry]


def v4_time_log(obj: dict, ctx: Context) -> str:
    """v4 showed [start, end] pairs, `false` for the end of a running timer."""
    pairs = [[int(entry[0]), int(entry[1]) if len(entry) > 1 and entry[1] else False]
             for entry in parse_v5_time_log(obj.get("time_log"))]
    return json.dumps(pairs, separators=(",", ":"))


def payment_term_name(obj: dict, ctx: Context) -> str:
    return f"Net {int(float(obj.get('num_days') or 0))}"  # v4 always named a term by its days


def activity_key(obj: dict, ctx: Context) -> str:
    # v4's activity id was "{type}-{client key}-{created_at}"; v5's hashed id has no v4 meaning.
    client = obj.get("client_id")
    client_key = ctx.ids.to_v4("client", client) if client and ctx.ids is not None else 0
    return f"{obj.get('activity_type_id', 0)}-{client_key}-{obj.get('created_at', 0)}"


COMPUTED: dict[str, Callable[[dict, Context], Any]] = {
    function.__name__: function
    for function in (is_owner, user_id_when_created, line_item_number, invoice_is_public,
                     is_quote_kind, invoice_filename, v4_time_log, payment_term_name, activity_key)
}


# -- request rewrites: (v4 body, v5 body, exchange) -> v5 body ----------------------------------

Rewrite = Callable[[dict, dict, "Exchange"], Awaitable[dict]]


async def single_contact_to_list(v4_body: dict, v5_body: dict, exchange: "Exchange") -> dict:
    """v4 accepted one `contact` object on clients; v5 only knows the `contacts` list."""
    contact = v5_body.pop("contact", None)
    if isinstance(contact, dict) and "contacts" not in v5_body:
        v5_body["contacts"] = [exchange.plans["contact"].to_v5(contact)]
    return v5_body


async def payment_from_invoice(v4_body: dict, v5_body: dict, exchange: "Exchange") -> dict:
    """v4: `invoice_id` + `amount`. v5: `client_id` + `invoices: [{invoice_id, amount}]`."""
    invoice = v5_body.pop("invoice_id", None) or v5_body.pop("invoice_public_id", None)
    v5_body.pop("invoice_public_id", None)
    problems = {}
    if not invoice:
        problems["invoice_id"] = ["The invoice id field is required."]
    if v5_body.get("amount") in (None, ""):
        problems["amount"] = ["The amount field is required."]
    if problems:
        raise errors.validation_failed(problems)
    found = await exchange.fetch_json(f"invoices/{invoice}")
    record = found.get("data") if isinstance(found, dict) else None
    if not isinstance(record, dict) or record.get("is_deleted"):
        v4_id = v4_body.get("invoice_id") or v4_body.get("invoice_public_id")
        raise errors.route_not_found(f"Invoice {v4_id} does not exist")
    v5_body["client_id"] = record.get("client_id")
    v5_body["invoices"] = [{"invoice_id": invoice, "amount": v5_body["amount"]}]
    return v5_body


async def credit_from_amount(v4_body: dict, v5_body: dict, exchange: "Exchange") -> dict:
    """v4 credits were an amount; a v5 credit's amount is the sum of its line items."""
    amount = v5_body.pop("amount", None)
    creating = exchange.request.method == "POST"
    problems = {}
    if creating and not v5_body.get("client_id"):
        problems["client_id"] = ["The client id field is required."]
    if creating and amount in (None, ""):
        problems["amount"] = ["The amount field is required."]
    elif amount not in (None, "") and not _positive_number(amount):
        problems["amount"] = ["The amount must be a positive number."]
    if problems:
        raise errors.validation_failed(problems)
    if amount not in (None, "") and "line_items" not in v5_body:
        v5_body["line_items"] = [{"quantity": 1, "cost": float(amount), "product_key": "",
                                  "notes": str(v4_body.get("public_notes") or "")}]
    return v5_body


def _positive_number(value: Any) -> bool:
    try:
        return float(value) > 0 and not isinstance(value, bool)
    except (TypeError, ValueError):
        return False


async def task_time_log(v4_body: dict, v5_body: dict, exchange: "Exchange") -> dict:
    """v4 `time_log` pairs (or `time_details` entries) in v5's time_log form."""
    v5_body.pop("action", None)  # timer actions are applied by the tasks resource itself
    details = v5_body.pop("time_details", None)
    pairs = None
    if isinstance(details, list):
        pairs = [time_detail_pair(index, entry) for index, entry in enumerate(details)]
    elif "time_log" in v4_body:
        pairs = parse_v5_time_log(v4_body.get("time_log")) if v4_body.get("time_log") else []
    if pairs is not None:
        v5_body["time_log"] = v5_time_log(pairs)
    return v5_body


def v5_time_log(pairs: list[list]) -> str:
    entries = []
    for pair in pairs:
        start = int(pair[0])
        end = int(pair[1]) if len(pair) > 1 and pair[1] else 0
        entries.append([start, end, "", True])
    return json.dumps(entries, separators=(",", ":"))


def time_detail_pair(index: int, entry: Any) -> list:
    """One v4 `time_details` entry: start_datetime plus end_datetime or a duration (UTC)."""
    field = f"time_details.{index}"
    if not isinstance(entry, dict) or not entry.get("start_datetime"):
        raise errors.validation_failed({f"{field}.start_datetime": ["The start datetime is required."]})
    start = _unix(entry["start_datetime"], f"{field}.start_datetime")
    if entry.get("end_datetime"):
        return [start, _unix(entry["end_datetime"], f"{field}.end_datetime")]
    for unit, seconds in (("seconds", 1), ("minutes", 60), ("hours", 3600)):
        value = entry.get(f"duration_{unit}")
        if value not in (None, ""):
            try:
                return [start, start + int(float(value) * seconds)]
            except (TypeError, ValueError):
                raise errors.validation_failed({f"{field}.duration_{unit}": ["The duration must be a number."]})
    return [start, False]


def _unix(value: Any, field: str) -> int:
    try:
        parsed = datetime.fromisoformat(str(value).replace("T", " "))
    except ValueError:
        raise errors.validation_failed({field: [f"{value!r} is not a date and time."]}) from None
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=timezone.utc)
    return int(parsed.timestamp())


def now() -> int:
    return int(time.time())


# What v4's InvoiceApiController@store took from an invoice body to create the client of `email`.
EMAIL_CLIENT_FIELDS = ("name", "address1", "address2", "city", "state", "postal_code", "country_id", "private_notes")
EMAIL_CONTACT_FIELDS = ("first_name", "last_name", "phone")
EMAIL_ADDRESS = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")


async def client_by_email(v4_body: dict, v5_body: dict, exchange: "Exchange") -> dict:
    """v4 invoice creates could name the client by a contact's `email` instead of `client_id`: the
    client with that contact, or a new one made from the body's client and contact fields."""
    email = v5_body.pop("email", None)
    for field in EMAIL_CLIENT_FIELDS + EMAIL_CONTACT_FIELDS:
        if field != "private_notes":  # an invoice field as well
            v5_body.pop(field, None)
    if not email:
        return v5_body
    if not isinstance(email, str) or not EMAIL_ADDRESS.match(email.strip()):
        raise errors.validation_failed({"email": ["The email must be a valid email address."]})
    found = await exchange.fetch_json("clients", query=[("email", email.strip()), ("per_page", "1")])
    rows = found.get("data") if isinstance(found, dict) else None
    if rows:
        v5_body["client_id"] = rows[0]["id"]
        return v5_body
    client = {field: v4_body[field] for field in EMAIL_CLIENT_FIELDS if field in v4_body}
    client["contact"] = {"email": email.strip(), **{f: v4_body[f] for f in EMAIL_CONTACT_FIELDS if f in v4_body}}
    created = await exchange.call("POST", "clients", body=await single_contact_to_list(
        client, exchange.plans["client"].to_v5(client), exchange))
    v5_body["client_id"] = created["data"]["id"]
    return v5_body


REWRITES: dict[str, Rewrite] = {
    function.__name__: function
    for function in (single_contact_to_list, payment_from_invoice, credit_from_amount, task_time_log,
                     client_by_email)
}


def known_functions() -> set[str]:
    return set(COMPUTED) | set(REWRITES)
