"""The sandbox delivers webhooks as v5 does: bare transformer output with the observers' includes,
POST (or PUT) with Accept: application/json, and a 404/405/410 from the target removes the webhook."""

from __future__ import annotations

import asyncio

import pytest
from aiohttp import web

WAIT = 5.0


class Target:
    def __init__(self) -> None:
        self.calls: asyncio.Queue[tuple[str, dict, dict]] = asyncio.Queue()
        self.status = 200

    async def handle(self, request: web.Request) -> web.Response:
        await self.calls.put((request.method, dict(request.headers), await request.json()))
        return web.json_response({}, status=self.status)

    async def next(self) -> tuple[str, dict, dict]:
        return await asyncio.wait_for(self.calls.get(), WAIT)


@pytest.fixture
async def target(aiohttp_server):
    hook_target = Target()
    app = web.Application()
    app.router.add_route("*", "/{tail:.*}", hook_target.handle)
    server = await aiohttp_server(app, host="127.0.0.1")
    hook_target.url = str(server.make_url("/v5-hook"))  # type: ignore[attr-defined]
    return hook_target


async def data(response, status: int = 200):
    assert response.status == status, await response.text()
    return (await response.json())["data"]


async def subscribe(client, target, event_id: int, **extra) -> dict:
    return await data(await client.post("/api/v1/webhooks", json={
        "target_url": target.url, "event_id": event_id, **extra}))


async def test_a_created_client_is_delivered_bare(client, target):
    await subscribe(client, target, 1)
    created = await data(await client.post("/api/v1/clients", json={
        "name": "Hooked", "contacts": [{"email": "h@hooked.test"}]}))
    method, headers, payload = await target.next()
    assert method == "POST" and headers["Accept"] == "application/json"
    assert payload == created  # the transformer's output with no `data` wrapper and no event name
    assert isinstance(payload["id"], str) and payload["contacts"][0]["email"] == "h@hooked.test"


async def test_invoice_and_payment_events_carry_the_observers_includes(client, target):
    await subscribe(client, target, 2)
    await subscribe(client, target, 4)
    clients = await data(await client.get("/api/v1/clients"))
    invoice = await data(await client.post("/api/v1/invoices", json={
        "client_id": clients[0]["id"], "line_items": [{"quantity": 1, "cost": 20}]}))
    _, _, payload = await target.next()
    assert payload["id"] == invoice["id"] and payload["client"]["id"] == clients[0]["id"]
    await data(await client.post("/api/v1/payments", json={
        "client_id": clients[0]["id"], "amount": 5, "invoices": [{"invoice_id": invoice["id"], "amount": 5}]}))
    _, _, payload = await target.next()
    assert payload["client"]["id"] == clients[0]["id"] and payload["invoices"][0]["id"] == invoice["id"]


@pytest.mark.parametrize("event_id, path, body", [
    (5, "/api/v1/vendors", {"name": "Hook Vendor"}),
    (18, "/api/v1/tasks", {"description": "Hook task"}),
    (15, "/api/v1/expenses", {"amount": 12}),
])
async def test_other_create_events(client, target, event_id, path, body):
    await subscribe(client, target, event_id)
    created = await data(await client.post(path, json=body))
    _, _, payload = await target.next()
    assert payload["id"] == created["id"]


async def test_update_delete_and_approve_events(client, target):
    quotes = await data(await client.get("/api/v1/quotes"))
    draft = next(q for q in quotes if q["status_id"] == "1")
    await subscribe(client, target, 21)
    await subscribe(client, target, 11)
    await data(await client.get(f"/api/v1/quotes/{draft['id']}/approve"))
    _, _, payload = await target.next()
    assert payload["id"] == draft["id"] and payload["status_id"] == "3" and "client" in payload
    clients = await data(await client.get("/api/v1/clients"))
    await data(await client.delete(f"/api/v1/clients/{clients[-1]['id']}"))
    _, _, payload = await target.next()
    assert payload["id"] == clients[-1]["id"] and payload["is_deleted"] is True


async def test_rest_method_and_headers(client, target):
    await subscribe(client, target, 1, rest_method="put", headers={"X-Custom": "yes"})
    await client.post("/api/v1/clients", json={"name": "Put"})
    method, headers, _ = await target.next()
    assert method == "PUT" and headers["X-Custom"] == "yes"


@pytest.mark.parametrize("status, removed", [(404, True), (405, True), (410, True), (500, False), (400, False)])
async def test_target_answers_that_remove_the_webhook(client, store, target, status, removed):
    target.status = status
    webhook = await subscribe(client, target, 1)
    await client.post("/api/v1/clients", json={"name": "First"})
    await target.next()
    row = store.table("webhooks").get(store.decode(webhook["id"]))
    for _ in range(50):  # the removal happens just after the target answers
        if row["archived_at"]:
            break
        await asyncio.sleep(0.02)
    assert bool(row["archived_at"]) is removed
    await client.post("/api/v1/clients", json={"name": "Second"})
    if removed:
        await asyncio.sleep(0.2)
        assert target.calls.empty()  # a removed webhook is never called again
    else:
        await target.next()
