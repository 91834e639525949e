"""The v4 routes that are not CRUD over one v5 resource (v4-api.md §1.2), each a small handler.

Handlers take the request's `Exchange`; `SPECIAL_ROUTES` lists them with their v4 method and path
(the app registers them; docs/coverage.md lists them, checked by tests/test_coverage.py). Routes v5 cannot
serve answer `errors.not_supported` with the reason, never a 500 or a silent wrong answer.
"""

from __future__ import annotations

import asyncio
import mimetypes
import re
from dataclasses import dataclass
from typing import Any, Awaitable, Callable

from aiohttp import ClientResponse, web

from .. import errors
from . import contacts
from ..proxy import (Exchange, _truthy, fan_out, json_response, list_all, read_json_body, stream_from_v5,
                     v5_id_or_404)
from ..translate.plan import Context, parse_includes

Handler = Callable[[Exchange], Awaitable[web.StreamResponse]]
V4_VERSION = "4.5.50"


@dataclass(frozen=True)
class SpecialRoute:
    method: str
    path: str  # under /api/v1, aiohttp template
    handler: Handler
    auth: bool = True  # False: no token needed (login)


# -- ping, static -------------------------------------------------------------------------------

async def ping(exchange: Exchange) -> web.StreamResponse:
    if "v2" in exchange.request.query:  # v4's Zapier form: the token owner's email
        rows = (await exchange.call("POST", "refresh")).get("data")
        first = rows[0] if isinstance(rows, list) and rows and isinstance(rows[0], dict) else {}
        user = first.get("user") if isinstance(first.get("user"), dict) else {}
        return json_response(200, {"data": user.get("email", "")})
    await exchange.call("GET", "ping")  # checks the token against v5
    # v4 sent the bare word with its API headers (Content-Type: application/json), not valid JSON.
    return web.Response(body=b"success", headers={"Content-Type": "application/json"})


def _numeric_ids(rows: Any) -> list:
    """v5 statics carry ids as numeric strings; v4's were integers."""
    out = []
    for row in rows if isinstance(rows, list) else []:
        if isinstance(row, dict):
            row = dict(row)
            if isinstance(row.get("id"), str) and row["id"].isdigit():
                row["id"] = int(row["id"])
        out.append(row)
    return out


async def static_data(exchange: Exchange) -> dict:
    v5 = await exchange.fetch_json("statics") or {}
    payment_types = exchange.plans.mappings.tables["payment_type"].to_v4
    v4_payment_types = []
    for row in _numeric_ids(v5.get("payment_types")):
        if isinstance(row.get("id"), int):
            row["id"] = payment_types.get(row["id"], row["id"])
        v4_payment_types.append(row)
    return {
        "currencies": _numeric_ids(v5.get("currencies")),
        "sizes": _numeric_ids(v5.get("sizes")),
        "industries": _numeric_ids(v5.get("industries")),
        "timezones": _numeric_ids(v5.get("timezones")),
        "dateFormats": _numeric_ids(v5.get("date_formats")),
        "datetimeFormats": _numeric_ids(v5.get("datetime_formats")),
        "languages": _numeric_ids(v5.get("languages")),
        "paymentTypes": sorted(v4_payment_types, key=lambda r: r.get("id", 0) if isinstance(r.get("id"), int) else 0),
        "countries": _numeric_ids(v5.get("countries")),
        "gateways": _numeric_ids(v5.get("gateways")),
        "gatewayTypes": _numeric_ids(v5.get("gateway_types")),
        "fonts": _numeric_ids(v5.get("fonts")),
        **exchange.plans.mappings.settings.v4_static_lists,
    }


async def static(exchange: Exchange) -> web.StreamResponse:
    return json_response(200, {"data": await static_data(exchange)})


# -- login, refresh, user_accounts ---------------------------------------------------------------

def _context(exchange: Exchange) -> Context:
    return Context(ids=exchange.ids)


async def user_accounts_answer(exchange: Exchange, company_users: Any) -> web.StreamResponse:
    """v4's UserAccount list (no pagination meta), one per v5 company the user belongs to."""
    plan = exchange.plans["user_account"]
    rows = [row for row in company_users if isinstance(row, dict)] if isinstance(company_users, list) else []
    tree = parse_includes(exchange.request.query.get("include"))
    await fan_out(exchange, plan, rows, tree)
    accounts = [plan.to_v4(row, tree, _context(exchange)) for row in rows]
    if _truthy(exchange.request.query.get("include_static")):
        return json_response(200, {"data": {"accounts": accounts, "static": await static_data(exchange),
                                            "version": V4_VERSION}})
    return json_response(200, {"data": accounts})


async def login(exchange: Exchange) -> web.StreamResponse:
    body = await read_json_body(exchange.request)
    secret = exchange.request.headers.get("X-Ninja-Secret") or body.get("api_secret") \
        or exchange.request.query.get("api_secret")
    credentials = {key: body[key] for key in ("email", "password", "one_time_password") if key in body}
    headers = {"X-API-SECRET": str(secret)} if secret else None
    exchange.v5_route = "POST /api/v1/login"
    response = await exchange.upstream.request("POST", "login", token=None, json_body=credentials,
                                               headers=headers)
    if response.status == 403:  # v5's ApiSecretCheck
        raise errors.invalid_api_secret()
    if response.status in (401, 422):  # wrong or missing email/password: v4 said only this
        raise errors.invalid_credentials()
    if not response.ok:
        raise errors.from_v5(response.status, response.body, lambda key: key)
    answer = response.body.get("data") if isinstance(response.body, dict) else None
    rows = answer if isinstance(answer, list) else []
    token = next((row.get("token", {}).get("token") for row in rows if isinstance(row.get("token"), dict)), None)
    if token:  # fan-out includes are fetched with the token v5 just gave
        exchange.token = token
    return await user_accounts_answer(exchange, rows)


async def refresh(exchange: Exchange) -> web.StreamResponse:
    body = await exchange.call("POST", "refresh")
    return await user_accounts_answer(exchange, body.get("data"))


# -- accounts ------------------------------------------------------------------------------------

async def current_company(exchange: Exchange) -> dict:
    body = await exchange.call("POST", "refresh", query=[("current_company", "true")])
    rows = body.get("data") if isinstance(body.get("data"), list) else []
    company = rows[0].get("company") if rows and isinstance(rows[0], dict) else None
    if not isinstance(company, dict):
        raise errors.upstream_bad_answer("the v5 refresh answer names no company")
    return company


async def account_answer(exchange: Exchange, company: dict) -> web.StreamResponse:
    plan = exchange.plans["account"]
    tree = parse_includes(exchange.request.query.get("include"))
    await fan_out(exchange, plan, [company], tree)
    return json_response(200, {"data": plan.to_v4(company, tree, _context(exchange))})


async def show_account(exchange: Exchange) -> web.StreamResponse:
    return await account_answer(exchange, await current_company(exchange))


async def update_account(exchange: Exchange) -> web.StreamResponse:
    body = await read_json_body(exchange.request)
    if not str(body.get("name") or "").strip():  # v4 UpdateAccountRequest: name required
        raise errors.validation_failed({"name": ["The name field is required."]})
    company = await current_company(exchange)
    v5_body = exchange.plans["account"].to_v5(body)
    settings = {**company.get("settings", {}), **v5_body.pop("settings", {})}
    updated = await exchange.call("PUT", f"companies/{company.get('id')}", body={**v5_body, "settings": settings})
    record = updated.get("data")
    if not isinstance(record, dict):
        raise errors.upstream_bad_answer("no company in the answer")
    return await account_answer(exchange, record)


# -- dashboard -----------------------------------------------------------------------------------

async def activities(exchange: Exchange) -> list[dict]:
    """The latest 100 activities; a v5 without the activities list gives none (not an error)."""
    body = await exchange.fetch_json("activities", query=[("rows", "100")])  # v5 ActivityController takes `rows`
    rows = body.get("data") if isinstance(body, dict) else None
    plan = exchange.plans["activity"]
    return [plan.to_v4(row, {}, _context(exchange)) for row in rows or () if isinstance(row, dict)]


def _number(value: Any) -> float:
    try:
        return float(value or 0)
    except (TypeError, ValueError):
        return 0.0


def _round(value: float) -> int | float:
    value = round(value, 2)
    return int(value) if value.is_integer() else value


async def dashboard(exchange: Exchange) -> web.StreamResponse:
    if _truthy(exchange.request.query.get("only_activity")):
        return json_response(200, {"data": {"id": 1, "activities": await activities(exchange)}})
    invoices, payments, clients, company, recent = await asyncio.gather(
        list_all(exchange, "invoices"), list_all(exchange, "payments"), list_all(exchange, "clients"),
        current_company(exchange), activities(exchange))
    live_invoices = [i for i in invoices if not i.get("is_deleted")]
    sent = [i for i in live_invoices if str(i.get("status_id", "1")) not in ("1", "5", "6")]
    paid = sum(_number(p.get("amount")) - _number(p.get("refunded"))
               for p in payments if not p.get("is_deleted") and str(p.get("status_id", "4")) not in ("2", "3"))
    currency = int(_number(company.get("settings", {}).get("currency_id")) or 1)
    return json_response(200, {"data": {
        "id": 1,
        "paidToDate": _round(paid),
        "paidToDateCurrency": currency,
        "balances": _round(sum(_number(i.get("balance")) for i in sent)),
        "balancesCurrency": currency,
        "averageInvoice": _round(sum(_number(i.get("amount")) for i in live_invoices) / len(live_invoices)
                                 if live_invoices else 0.0),
        "averageInvoiceCurrency": currency,
        "invoicesSent": len(sent),
        "activeClients": sum(1 for c in clients if not c.get("is_deleted") and not c.get("archived_at")),
        "activities": recent,
    }})


# -- documents, payment terms --------------------------------------------------------------------



async def stream_document(exchange: Exchange) -> web.StreamResponse:
    """v4 GET /documents/{id} answered the file itself, with the document's mime type."""
    v5_id = v5_id_or_404(exchange, "document", exchange.request.match_info["id"])

    def headers_for(upstream: ClientResponse) -> dict[str, str]:
        disposition = upstream.headers.get("Content-Disposition", "")
        filename = _filename(disposition)
        content_type = mimetypes.guess_type(filename)[0] if filename else None
        return {"Content-Type": content_type or upstream.headers.get("Content-Type", "application/octet-stream"),
                **({"Content-Disposition": disposition} if disposition else {})}

    return await stream_from_v5(exchange, f"documents/{v5_id}/download", headers_for)


def _filename(disposition: str) -> str:
    match = re.search(r'filename\*?=(?:UTF-8\'\')?"?([^";]+)"?', disposition)
    return match.group(1) if match else ""


async def delete_payment_term(exchange: Exchange) -> web.StreamResponse:
    """v4 DELETE /payment_terms/{num_days}: the term is named by its days, not an id."""
    days = exchange.request.match_info["num_days"]
    terms = await list_all(exchange, "payment_terms")
    match = next((t for t in terms if not t.get("is_deleted") and days.isdigit()
                  and int(_number(t.get("num_days"))) == int(days)), None)
    if match is None:
        raise errors.V4Error(400, {"error": {"message": "Cannot delete a default or non existent Payment Term"}})
    body = await exchange.call("DELETE", f"payment_terms/{match.get('id')}")
    record = body.get("data") if isinstance(body.get("data"), dict) else {**match, "is_deleted": True}
    return json_response(200, {"data": exchange.plans["payment_term"].to_v4(record, {}, _context(exchange))})


async def show_user(exchange: Exchange) -> web.StreamResponse:
    """v5 asks for the password on GET users/{user} but not on the list: the user is found there."""
    v5_id = v5_id_or_404(exchange, "user", exchange.request.match_info["id"])
    user = next((row for row in await list_all(exchange, "users") if row.get("id") == v5_id), None)
    if user is None:
        raise errors.record_not_found()
    return json_response(200, {"data": exchange.plans["user"].to_v4(user, {}, _context(exchange))})


# -- what v5 cannot serve ------------------------------------------------------------------------

def unsupported(reason: str) -> Handler:
    async def handle(exchange: Exchange) -> web.StreamResponse:
        request = exchange.request
        raise errors.not_supported(f"{request.method} {request.path}", reason)

    return handle


# The v4 Route::resource families (v4-api.md §1.2): each also had GET x/create and GET x/{id}/edit,
# which no v4 API controller implemented (500 on v4).
V4_RESOURCES = ("clients", "contacts", "invoices", "payments", "tasks", "credits", "products", "projects",
                "tax_rates", "users", "expenses", "documents", "vendors", "expense_categories", "payment_terms")

NO_DEVICES = "v4's mobile-app push notifications have no v5 counterpart"
USER_PASSWORD = ("v5 changes users only with the acting user's password (X-API-PASSWORD), which a v4 "
                 "client never sends; and v4's own route did not work")

SPECIAL_ROUTES: list[SpecialRoute] = [  # fixed paths first: `users/create` is not `users/{id}`
    *(SpecialRoute("GET", f"/{name}/create", unsupported("v4 had no API form for new records (it answered 500)"))
      for name in V4_RESOURCES),
    *(SpecialRoute("GET", f"/{name}/{{id}}/edit", unsupported("v4 had no API edit form (it answered 500)"))
      for name in V4_RESOURCES),
    SpecialRoute("GET", "/ping", ping),
    SpecialRoute("POST", "/login", login, auth=False),
    SpecialRoute("POST", "/refresh", refresh),
    SpecialRoute("GET", "/user_accounts", refresh),
    SpecialRoute("GET", "/static", static),
    SpecialRoute("GET", "/accounts", show_account),
    SpecialRoute("PUT", "/accounts", update_account),
    SpecialRoute("GET", "/dashboard", dashboard),
    SpecialRoute("GET", "/documents/{id}", stream_document),
    SpecialRoute("DELETE", "/payment_terms/{num_days}", delete_payment_term),
    SpecialRoute("POST", "/oauth_login", unsupported("v5 signs users in with OAuth in its own app; "
                                                     "create a token in v5 and send it as X-Ninja-Token")),
    SpecialRoute("POST", "/register", unsupported("v5 accounts are created in the v5 app, not through the API")),
    SpecialRoute("POST", "/upgrade", unsupported("v4 iOS in-app plan purchases do not apply to v5")),
    SpecialRoute("POST", "/ios_subscription_status", unsupported("v4 iOS in-app plan purchases do not apply to v5")),
    SpecialRoute("POST", "/add_token", unsupported(NO_DEVICES)),
    SpecialRoute("POST", "/remove_token", unsupported(NO_DEVICES)),
    SpecialRoute("POST", "/update_notifications", unsupported(NO_DEVICES)),
    SpecialRoute("GET", "/contacts", contacts.list_contacts),
    SpecialRoute("POST", "/contacts", contacts.create_contact),
    SpecialRoute("GET", "/contacts/{id}", contacts.show_contact),
    SpecialRoute("PUT", "/contacts/{id}", contacts.update_contact),
    SpecialRoute("PATCH", "/contacts/{id}", contacts.update_contact),
    SpecialRoute("DELETE", "/contacts/{id}", contacts.delete_contact),
    SpecialRoute("GET", "/users/{id}", show_user),
    SpecialRoute("POST", "/users", unsupported(USER_PASSWORD)),
    SpecialRoute("PUT", "/users/{id}", unsupported(USER_PASSWORD)),
    SpecialRoute("PATCH", "/users/{id}", unsupported(USER_PASSWORD)),
    SpecialRoute("DELETE", "/users/{id}", unsupported(USER_PASSWORD)),
    SpecialRoute("PUT", "/documents/{id}", unsupported("v4 documents could not be edited either")),
    SpecialRoute("PATCH", "/documents/{id}", unsupported("v4 documents could not be edited either")),
    SpecialRoute("PUT", "/payment_terms/{id}", unsupported("v4 payment terms could not be edited either")),
    SpecialRoute("PATCH", "/payment_terms/{id}", unsupported("v4 payment terms could not be edited either")),
]
