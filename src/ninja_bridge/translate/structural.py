"""What cannot be data: computed v4 fields and structural request rewrites, each a small named
function that a mapping file refers to by name (``computed:`` and ``rewrites:``)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Awaitable, Callable

from .. import errors
from .plan import OMIT, Context

if TYPE_CHECKING:
    from ..proxy import Exchange


# -- computed v4 fields: (v5 object, context) -> v4 value ---------------------------------------

def account_key(obj: dict, ctx: Context) -> str:
    return ctx.account_key


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


COMPUTED: dict[str, Callable[[dict, Context], Any]] = {
    function.__name__: function
    for function in (account_key, is_owner, user_id_when_created, line_item_number, invoice_is_public,
                     is_quote_kind, invoice_filename)
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


REWRITES: dict[str, Rewrite] = {
    function.__name__: function for function in (single_contact_to_list, payment_from_invoice)
}


def known_functions() -> set[str]:
    return set(COMPUTED) | set(REWRITES)
