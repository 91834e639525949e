"""Resource CRUD (`/api/v1/{entity}[/{id}]`) and the account routes (login, refresh, ping, statics)."""

from __future__ import annotations

from aiohttp import web

from ninja_bridge.sandbox import account, billing, operations
from ninja_bridge.sandbox.entities import Entity
from ninja_bridge.sandbox.errors import ValidationErrors, message
from ninja_bridge.sandbox.listing import select
from ninja_bridge.sandbox.protocol import (
    entity_of, envelope_response, item, json_response, list_response, read_payload, refuse_repeated_write,
    require_password, store_of,
)
from ninja_bridge.sandbox.store import Record, SandboxStore


async def list_records(request: web.Request) -> web.Response:
    entity = entity_of(request)
    store = store_of(request)
    return list_response(request, entity, select(store, entity, store.table(entity.name), request.query))


def guard_users(request: web.Request, entity: Entity) -> None:
    """v5 puts every users route but the list behind the password_protected middleware."""
    if entity.name == "users":
        require_password(request)


async def show_record(request: web.Request) -> web.Response:
    entity = entity_of(request)
    guard_users(request, entity)
    record = operations.find_by_path_id(store_of(request), entity, request.match_info["id"])
    return item(request, entity, record)


async def blank_record(request: web.Request) -> web.Response:
    """GET /{entity}/create: the unsaved factory entity."""
    entity = entity_of(request)
    guard_users(request, entity)
    return item(request, entity, {**operations.blank_record(entity), "id": None})


async def create_record(request: web.Request) -> web.StreamResponse:
    entity = entity_of(request)
    guard_users(request, entity)
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
    guard_users(request, entity)
    store = store_of(request)
    record = operations.find_by_path_id(store, entity, request.match_info["id"])
    payload = operations.decode_body(store, entity, await read_payload(request))
    operations.update(store, entity.name, record, payload)
    if entity.name == "invoices":
        run_triggered_actions(request, store, record)
    return item(request, entity, record)


async def delete_record(request: web.Request) -> web.Response:
    entity = entity_of(request)
    guard_users(request, entity)
    store = store_of(request)
    record = operations.find_by_path_id(store, entity, request.match_info["id"])
    if entity.name == "documents":
        store.table("documents").remove(record["id"])
        store.emit("delete", "documents", record)
        return json_response({"message": "Success"})
    operations.delete(store, entity.name, record)
    return item(request, entity, record)


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
    store.confirm_password()  # a fresh login also satisfies password-protected routes for a while
    return envelope_response(request, account.company_users(store))


async def refresh(request: web.Request) -> web.Response:
    return envelope_response(request, account.company_users(store_of(request)))


async def update_company(request: web.Request) -> web.Response:
    """PUT /companies/{id}: merges the sent `settings` into the company's (CompanyController::update)."""
    store = store_of(request)
    if store.decode(request.match_info["id"]) != store.company.get("id"):
        raise message(400, "No query results for model [App\\Models\\Company].")
    payload = await read_payload(request)
    if isinstance(payload.get("settings"), dict):
        store.company["settings"] = {**store.company.get("settings", {}), **payload["settings"]}
    store.company["updated_at"] = store.now()
    return envelope_response(request, account.company_payload(store))  # itemResponse, like other entities


async def ping(request: web.Request) -> web.Response:
    return json_response(account.ping(store_of(request)))


async def health_check(request: web.Request) -> web.Response:
    return json_response({"system_health": True})


async def statics(request: web.Request) -> web.Response:
    return json_response(account.statics())
