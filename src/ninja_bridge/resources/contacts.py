"""v4 `/contacts` on v5, which has no contacts endpoint: a contact lives in its client's `contacts`
list, so reads scan the clients and writes send the client's whole list back (v5 keeps the listed
contacts, creates the new ones and deletes the rest — the rule v4's own client PUT followed)."""

from __future__ import annotations

from aiohttp import web

from .. import errors
from ..proxy import (Exchange, _positive_int, _truthy, json_response, list_all, read_json_body, v4_pagination,
                     v5_id_or_404)
from ..translate.plan import Context

REQUIRED_ON_CREATE = ("first_name", "last_name", "email", "client_id")  # v4 CreateContactRequest
REQUIRED_ON_UPDATE = ("first_name", "last_name", "email")  # v4 UpdateContactRequest


def to_v4(exchange: Exchange, contact: dict) -> dict:
    return exchange.plans["contact"].to_v4(contact, {}, Context(ids=exchange.ids))


async def find(exchange: Exchange) -> tuple[dict, dict]:
    wanted = v5_id_or_404(exchange, "contact", exchange.request.match_info["id"])
    for client in await list_all(exchange, "clients"):
        for contact in client.get("contacts") or ():
            if contact.get("id") == wanted:
                return client, contact
    raise errors.record_not_found()


async def list_contacts(exchange: Exchange) -> web.StreamResponse:
    query = exchange.request.query
    clients = await list_all(exchange, "clients")
    if "client_id" in query:
        wanted = v5_id_or_404(exchange, "client", query["client_id"])
        clients = [c for c in clients if c.get("id") == wanted]
    contacts = [contact for client in clients for contact in client.get("contacts") or ()]
    if _truthy(query.get("filter_active")):
        contacts = [c for c in contacts if not c.get("archived_at")]
    if query.get("updated_at", "").strip().isdigit():
        contacts = [c for c in contacts if int(c.get("updated_at") or 0) >= int(query["updated_at"])]
    contacts.sort(key=lambda c: int(c.get("created_at") or 0), reverse=True)  # v4: created_at desc
    per_page = _positive_int(query.get("per_page"), exchange.plans.mappings.settings.default_page_size)
    page = _positive_int(query.get("page"), 1)
    rows = contacts[(page - 1) * per_page: page * per_page]
    meta = v4_pagination(exchange, total=len(contacts), count=len(rows), per_page=per_page, current_page=page,
                         total_pages=-(-len(contacts) // per_page))
    return json_response(200, {"data": [to_v4(exchange, c) for c in rows], "meta": {"pagination": meta}})


async def show_contact(exchange: Exchange) -> web.StreamResponse:
    _, contact = await find(exchange)
    return json_response(200, {"data": to_v4(exchange, contact)})


def _require(body: dict, fields: tuple[str, ...]) -> None:
    missing = {f: [f"The {f.replace('_', ' ')} field is required."] for f in fields if body.get(f) in (None, "")}
    if missing:
        raise errors.validation_failed(missing)


async def save_contacts(exchange: Exchange, client: dict, contacts: list[dict]) -> dict:
    body = await exchange.call("PUT", f"clients/{client.get('id')}", body={"contacts": contacts})
    saved = body.get("data")
    if not isinstance(saved, dict):
        raise errors.upstream_bad_answer("no client in the answer")
    return saved


async def create_contact(exchange: Exchange) -> web.StreamResponse:
    body = await read_json_body(exchange.request)
    _require(body, REQUIRED_ON_CREATE)
    client_id = v5_id_or_404(exchange, "client", body["client_id"])
    client = (await exchange.call("GET", f"clients/{client_id}")).get("data") or {}
    new = exchange.plans["contact"].to_v5({k: v for k, v in body.items() if k not in ("id", "client_id")})
    before = {c.get("id") for c in client.get("contacts") or ()}
    saved = await save_contacts(exchange, client, [*(client.get("contacts") or ()), new])
    created = [c for c in saved.get("contacts") or () if c.get("id") not in before]
    if not created:
        raise errors.upstream_bad_answer("v5 did not add the contact")
    return json_response(200, {"data": to_v4(exchange, created[-1])})


async def update_contact(exchange: Exchange) -> web.StreamResponse:
    body = await read_json_body(exchange.request)
    _require(body, REQUIRED_ON_UPDATE)
    client, contact = await find(exchange)
    changes = exchange.plans["contact"].to_v5({k: v for k, v in body.items() if k not in ("id", "client_id")})
    contacts = [{**c, **changes} if c.get("id") == contact.get("id") else c for c in client.get("contacts") or ()]
    saved = await save_contacts(exchange, client, contacts)
    updated = next(c for c in saved.get("contacts") or () if c.get("id") == contact.get("id"))
    return json_response(200, {"data": to_v4(exchange, updated)})


async def delete_contact(exchange: Exchange) -> web.StreamResponse:
    client, contact = await find(exchange)
    remaining = [c for c in client.get("contacts") or () if c.get("id") != contact.get("id")]
    if not remaining:  # v5 would put a blank contact in its place: refuse rather than surprise
        raise errors.bad_request("A client's only contact cannot be deleted; delete or edit the client instead")
    await save_contacts(exchange, client, remaining)
    return json_response(200, {"data": to_v4(exchange, contact)})
