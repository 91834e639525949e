"""v4 hooks end to end: a v4 client subscribes through the proxy, records change through the proxy,
the sandbox (as v5) posts its webhooks to the proxy's relay, and a receiver started here gets the
v4 payloads. Everything runs on 127.0.0.1 with tiny retry delays."""

from __future__ import annotations

import asyncio
import dataclasses
import time

import aiohttp
import pytest
from aiohttp import web

from ninja_bridge.app import create_app
from ninja_bridge.config import load_settings
from ninja_bridge.translate.spec import HookSpec
from ninja_bridge.webhooks import RELAY, relay_url

from ninja_bridge.sandbox import SANDBOX_TOKEN

V4_AUTH = {"X-Ninja-Token": SANDBOX_TOKEN}

SECRET = "test-relay-secret"
WAIT = 5.0  # seconds any expected delivery may take; tests never wait this long when things work


class Receiver:
    """A legacy hook target: records what it is sent, answers with `status`."""

    def __init__(self) -> None:
        self.received: asyncio.Queue[tuple[str, dict, dict]] = asyncio.Queue()
        self.status = 200
        self.attempts = 0

    async def handle(self, request: web.Request) -> web.Response:
        self.attempts += 1
        body = await request.json()
        await self.received.put((request.path_qs, dict(request.headers), body))
        return web.json_response({"ok": True}, status=self.status)

    async def next(self) -> tuple[str, dict, dict]:
        return await asyncio.wait_for(self.received.get(), WAIT)

    async def nothing_more(self, wait: float = 0.3) -> None:
        await asyncio.sleep(wait)
        assert self.received.empty(), f"unexpected delivery: {self.received.get_nowait()}"


@pytest.fixture
async def receiver(aiohttp_server):
    target = Receiver()
    app = web.Application()
    app.router.add_post("/{tail:.*}", target.handle)
    server = await aiohttp_server(app, host="127.0.0.1")
    target.url = str(server.make_url("/hooks/legacy?key=abc"))  # type: ignore[attr-defined]
    return target


def hook_settings(sandbox_server, **extra):
    upstream = str(sandbox_server.make_url("")).rstrip("/")
    values = dict(upstream=upstream, upstream_total_timeout=10, webhook_secret=SECRET, webhook_retries=2,
                  webhook_retry_delay=0.01, webhook_timeout=2)
    values.update(extra)
    return load_settings(**values)


@pytest.fixture
async def hooked_proxy(aiohttp_client, sandbox_server):
    """The proxy with hooks enabled, served on a real socket the sandbox can post to."""
    return await aiohttp_client(create_app(hook_settings(sandbox_server)), headers=V4_AUTH)


async def subscribe(client, event: str, target: str) -> int:
    response = await client.post("/api/v1/hooks", json={"event": event, "target_url": target})
    assert response.status == 201, await response.text()
    body = await response.json()
    assert list(body) == ["id"] and isinstance(body["id"], int)
    return body["id"]


async def v4_data(response) -> dict:
    assert response.status == 200, await response.text()
    return (await response.json())["data"]


def dropped(client, **labels) -> float:
    relay = client.server.app[RELAY]
    return relay.registry.get_sample_value("ninja_bridge_webhook_deliveries_dropped_total", labels) or 0.0


async def eventually(predicate, wait: float = WAIT) -> None:
    deadline = time.monotonic() + wait
    while not predicate():
        assert time.monotonic() < deadline, "condition not reached in time"
        await asyncio.sleep(0.02)


# -- subscribe and unsubscribe --------------------------------------------------------------------


@pytest.mark.v4_route("POST /api/v1/hooks")
async def test_subscribe_answers_as_v4_and_points_v5_at_the_relay(hooked_proxy, receiver, sandbox_store, codec):
    hook_id = await subscribe(hooked_proxy, " create_invoice ", receiver.url)
    webhook = sandbox_store.table("webhooks").get(hook_id)  # v4 hook id = the webhook's v5 key
    assert webhook is not None and webhook["event_id"] == "2" and webhook["rest_method"] == "post"
    relay_base = str(hooked_proxy.make_url("/relay/v1/hooks/create_invoice"))
    assert webhook["target_url"].startswith(relay_base + "?target=")
    assert receiver.url not in webhook["target_url"]  # only inside the signed, encoded query


async def test_every_v4_event_subscribes(hooked_proxy, receiver, sandbox_store, mappings):
    assert len(mappings.hooks) == 21
    for name, hook in mappings.hooks.items():
        hook_id = await subscribe(hooked_proxy, name, receiver.url)
        assert sandbox_store.table("webhooks").get(hook_id)["event_id"] == str(hook.event_id), name


async def test_an_event_whose_entity_is_not_mapped_is_refused(aiohttp_client, sandbox_server, mappings, receiver):
    hooks = {**mappings.hooks, "create_client": HookSpec(event_id=1, entity="customer")}
    app = create_app(hook_settings(sandbox_server), mappings=dataclasses.replace(mappings, hooks=hooks))
    client = await aiohttp_client(app, headers=V4_AUTH)
    response = await client.post("/api/v1/hooks", json={"event": "create_client", "target_url": receiver.url})
    assert response.status == 501
    assert "customer" in (await response.json())["error"]["message"]


async def test_unknown_event_is_refused_as_v4_did_and_never_reaches_v5(hooked_proxy, receiver, sandbox_store):
    before = len(sandbox_store.table("webhooks"))
    for body in ({"event": "create_product", "target_url": receiver.url}, {"event": 2}, {}):
        response = await hooked_proxy.post("/api/v1/hooks", json=body)
        assert response.status == 500
        assert await response.json() == "Event is invalid"
    assert len(sandbox_store.table("webhooks")) == before


async def test_hooks_need_the_relay_secret(proxy, receiver, sandbox_store):
    response = await proxy.post("/api/v1/hooks", json={"event": "create_client", "target_url": receiver.url})
    assert response.status == 501
    message = (await response.json())["error"]["message"]
    assert message.startswith("POST /api/v1/hooks is not supported") and "NINJA_BRIDGE_WEBHOOK_SECRET" in message
    assert len(sandbox_store.table("webhooks")) == 0


async def test_hooks_need_a_token(aiohttp_client, sandbox_server, receiver):
    client = await aiohttp_client(create_app(hook_settings(sandbox_server)))
    response = await client.post("/api/v1/hooks", json={"event": "create_client", "target_url": receiver.url})
    assert response.status == 403
    assert await response.json() == {"error": {"message": "Invalid token"}}


async def test_a_missing_target_is_a_v4_validation_error(hooked_proxy):
    response = await hooked_proxy.post("/api/v1/hooks", json={"event": "create_client", "target_url": " "})
    assert response.status == 422
    assert "target_url" in (await response.json())["errors"]


@pytest.mark.v4_route("DELETE /api/v1/hooks/{id}")
async def test_unsubscribe_deletes_the_v5_webhook(hooked_proxy, receiver, sandbox_store):
    hook_id = await subscribe(hooked_proxy, "create_client", receiver.url)
    response = await hooked_proxy.delete(f"/api/v1/hooks/{hook_id}")
    assert response.status == 200 and await response.json() == {"data": "success"}
    assert sandbox_store.table("webhooks").get(hook_id)["is_deleted"] is True
    for gone in (str(hook_id), "999999", "abc", "0"):
        response = await hooked_proxy.delete(f"/api/v1/hooks/{gone}")
        assert response.status == 404, gone
        assert await response.json() == {"message": "record does not exist"}
    await hooked_proxy.post("/api/v1/clients", json={"name": "After unsubscribing"})
    await receiver.nothing_more()


# -- deliveries ---------------------------------------------------------------------------------


async def test_client_events_arrive_as_v4_clients(hooked_proxy, receiver):
    await subscribe(hooked_proxy, "create_client", receiver.url)
    await subscribe(hooked_proxy, "update_client", receiver.url + "&which=update")
    created = await v4_data(await hooked_proxy.post("/api/v1/clients", json={
        "name": "Hooked Ltd", "work_phone": "555-0100", "id_number": "C-77",
        "contact": {"first_name": "Ada", "email": "ada@hooked.test"}}))

    path, headers, payload = await receiver.next()
    assert path == "/hooks/legacy?key=abc"  # the legacy URL exactly as subscribed
    assert headers["Content-Type"] == "application/json"
    assert "data" not in payload  # bare entity, as v4 posted it
    assert payload["id"] == created["id"] and isinstance(payload["id"], int)
    assert (payload["name"], payload["work_phone"], payload["id_number"]) == ("Hooked Ltd", "555-0100", "C-77")
    assert "phone" not in payload and "number" not in payload  # v5 names are gone
    assert [c["email"] for c in payload["contacts"]] == ["ada@hooked.test"]
    assert isinstance(payload["contacts"][0]["id"], int)
    assert "client_name" not in payload  # a client has no client_id

    await v4_data(await hooked_proxy.put(f"/api/v1/clients/{created['id']}", json={"name": "Hooked Group"}))
    path, _, payload = await receiver.next()
    assert path.endswith("which=update") and payload["name"] == "Hooked Group"
    shown = await v4_data(await hooked_proxy.get(f"/api/v1/clients/{created['id']}"))
    assert payload == shown  # exactly what the proxy shows a v4 client for that record
    await receiver.nothing_more()


async def test_invoice_and_payment_events_carry_v4_includes(hooked_proxy, receiver):
    client = await v4_data(await hooked_proxy.post("/api/v1/clients", json={
        "name": "Invoiced Inc", "contact": {"email": "billing@invoiced.test"}}))
    await subscribe(hooked_proxy, "create_invoice", receiver.url + "&e=invoice")
    await subscribe(hooked_proxy, "create_payment", receiver.url + "&e=payment")

    invoice = await v4_data(await hooked_proxy.post("/api/v1/invoices", json={
        "client_id": client["id"], "invoice_items": [{"product_key": "Hook", "notes": "relay", "cost": 40, "qty": 2}]}))
    _, _, payload = await receiver.next()
    assert payload["id"] == invoice["id"] and payload["client_id"] == client["id"]
    assert payload["invoice_number"] == invoice["invoice_number"] and "number" not in payload
    assert [(i["product_key"], i["qty"], i["cost"]) for i in payload["invoice_items"]] == [("Hook", 2, 40)]
    assert payload["client"]["id"] == client["id"]
    assert [c["email"] for c in payload["client"]["contacts"]] == ["billing@invoiced.test"]
    assert payload["client_name"] == "Invoiced Inc"
    shown = await v4_data(await hooked_proxy.get(f"/api/v1/invoices/{invoice['id']}?include=client"))
    assert {k: v for k, v in payload.items() if k != "client_name"} == shown

    payment = await v4_data(await hooked_proxy.post("/api/v1/payments", json={
        "invoice_id": invoice["id"], "amount": 30}))
    path, _, payload = await receiver.next()
    assert path.endswith("e=payment")
    assert payload["id"] == payment["id"] and payload["amount"] == 30 and payload["invoice_id"] == invoice["id"]
    assert payload["client"]["id"] == client["id"] and payload["client"]["contacts"]
    assert payload["invoice"]["id"] == invoice["id"]
    assert payload["invoice"]["invoice_items"][0]["product_key"] == "Hook"
    assert "client_name" not in payload  # v4's payment shape has no client_id
    await receiver.nothing_more()


async def test_quote_vendor_task_and_expense_events(hooked_proxy, receiver, sandbox_server, codec):
    for event in ("create_quote", "approve_quote", "create_vendor", "update_task", "delete_expense"):
        await subscribe(hooked_proxy, event, f"{receiver.url}&e={event}")
    client = (await v4_data(await hooked_proxy.get("/api/v1/clients")))[0]

    async def next_for(event: str) -> dict:
        path, _, payload = await receiver.next()
        assert path.endswith(f"e={event}"), path
        return payload

    quote = await v4_data(await hooked_proxy.post("/api/v1/invoices", json={
        "client_id": client["id"], "is_quote": True, "invoice_items": [{"product_key": "Q", "cost": 5, "qty": 1}]}))
    payload = await next_for("create_quote")
    assert payload["id"] == quote["id"] > 2**30 and payload["is_quote"] is True  # the shared v4 invoice id space
    assert payload["client"]["id"] == client["id"] and payload["client"]["contacts"]
    assert payload["client_name"] == client["display_name"]
    # v4 quotes were approved by the client in the portal, never through the API: approve in v5 directly.
    async with aiohttp.ClientSession() as v5:
        v5_quote = codec.encode(quote["id"] - 2**30)
        async with v5.get(sandbox_server.make_url(f"/api/v1/quotes/{v5_quote}/approve"),
                          headers={"X-API-TOKEN": SANDBOX_TOKEN, "X-Requested-With": "XMLHttpRequest"}) as answer:
            assert answer.status == 200
    payload = await next_for("approve_quote")
    assert payload["id"] == quote["id"] and payload["invoice_status_id"] != quote["invoice_status_id"]

    vendor = await v4_data(await hooked_proxy.post("/api/v1/vendors", json={
        "name": "Hook Paper", "vendor_contacts": [{"first_name": "Vic", "email": "vic@paper.test"}]}))
    payload = await next_for("create_vendor")
    assert payload["id"] == vendor["id"] and [c["email"] for c in payload["vendor_contacts"]] == ["vic@paper.test"]

    task = await v4_data(await hooked_proxy.post("/api/v1/tasks", json={
        "client_id": client["id"], "description": "Call"}))
    await v4_data(await hooked_proxy.put(f"/api/v1/tasks/{task['id']}", json={"description": "Call back"}))
    payload = await next_for("update_task")
    assert payload["id"] == task["id"] and payload["description"] == "Call back"
    assert payload["client_id"] == client["id"] and "client_name" not in payload  # v5 sends tasks without client

    expense = await v4_data(await hooked_proxy.post("/api/v1/expenses", json={"amount": 12}))
    await v4_data(await hooked_proxy.delete(f"/api/v1/expenses/{expense['id']}"))
    payload = await next_for("delete_expense")
    assert payload["id"] == expense["id"] and payload["is_deleted"] is True and payload["amount"] == 12
    await receiver.nothing_more()


async def test_a_410_from_the_legacy_target_removes_the_subscription(hooked_proxy, receiver, sandbox_store):
    receiver.status = 410
    hook_id = await subscribe(hooked_proxy, "create_client", receiver.url)
    await hooked_proxy.post("/api/v1/clients", json={"name": "Gone One"})
    _, _, payload = await receiver.next()
    assert payload["name"] == "Gone One"
    webhook = sandbox_store.table("webhooks").get(hook_id)
    await eventually(lambda: bool(webhook["archived_at"]))  # v5 removed it on the relay's 410
    response = await hooked_proxy.delete(f"/api/v1/hooks/{hook_id}")
    assert response.status == 404  # for v4 the subscription is gone
    await hooked_proxy.post("/api/v1/clients", json={"name": "Gone Two"})
    await receiver.nothing_more()
    assert receiver.attempts == 1 and dropped(hooked_proxy, event="create_client", reason="target_gone") == 0


async def test_a_dead_receiver_gets_bounded_retries_and_nothing_else(aiohttp_client, sandbox_server, receiver):
    client = await aiohttp_client(create_app(hook_settings(sandbox_server, webhook_retry_delay=0.1)),
                                  headers=V4_AUTH)
    relay = client.server.app[RELAY]
    receiver.status = 503
    await subscribe(client, "create_client", receiver.url)
    await client.post("/api/v1/clients", json={"name": "Unlucky"})
    await receiver.next()  # the first attempt
    await eventually(lambda: bool(relay.pending))
    # The API keeps answering while the delivery waits for its retries.
    response = await client.get("/api/v1/clients")
    assert response.status == 200 and relay.pending
    await eventually(lambda: dropped(client, event="create_client", reason="retries_exhausted") == 1)
    assert receiver.attempts == 3  # the first attempt and webhook_retries=2
    await asyncio.sleep(0.5)
    assert receiver.attempts == 3 and not relay.pending  # and then it stops


async def test_an_unreachable_receiver_is_dropped_after_retries(hooked_proxy, unused_tcp_port):
    await subscribe(hooked_proxy, "create_client", f"http://127.0.0.1:{unused_tcp_port}/nobody")
    await hooked_proxy.post("/api/v1/clients", json={"name": "Nobody Home"})
    await eventually(lambda: dropped(hooked_proxy, event="create_client", reason="retries_exhausted") == 1)
    assert not hooked_proxy.server.app[RELAY].pending


# -- relay safety ---------------------------------------------------------------------------------


async def test_forged_relay_calls_are_refused_and_never_forwarded(hooked_proxy, receiver):
    base = str(hooked_proxy.make_url("")).rstrip("/")
    genuine = relay_url(base, SECRET, "create_client", receiver.url)
    forged = [
        relay_url(base, "not-the-secret", "create_client", receiver.url),
        genuine.split("&sig=")[0],  # no signature
        genuine.replace("/create_client?", "/update_client?"),  # signed for another event
        genuine.replace("key%3Dabc", "key%3Devil"),  # signed for another target
    ]
    payload = {"id": "Opnel5aKBz", "name": "Forged"}
    for url in forged:
        response = await hooked_proxy.post(url.removeprefix(base), json=payload)
        assert response.status == 401, url
    await receiver.nothing_more()
    response = await hooked_proxy.post(genuine.removeprefix(base), json=payload)
    assert response.status == 200
    _, _, delivered = await receiver.next()
    assert delivered["id"] == 3 and delivered["name"] == "Forged"


@pytest.mark.parametrize("target", [
    "http://169.254.169.254/latest/meta-data/", "http://[fe80::1]/hook", "http://[fd00:ec2::254]/",
    "http://metadata.google.internal/computeMetadata/v1/", "http://[::ffff:169.254.169.254]/", "ftp://127.0.0.1/x",
])
async def test_link_local_and_metadata_targets_are_refused_at_subscribe(hooked_proxy, sandbox_store, target):
    response = await hooked_proxy.post("/api/v1/hooks", json={"event": "create_client", "target_url": target})
    assert response.status == 422
    assert "target_url" in (await response.json())["errors"]
    assert len(sandbox_store.table("webhooks")) == 0  # never reached v5


async def test_refused_targets_are_refused_at_delivery_too(hooked_proxy):
    base = str(hooked_proxy.make_url("")).rstrip("/")
    url = relay_url(base, SECRET, "create_client", "http://169.254.169.254/latest/meta-data/")
    response = await hooked_proxy.post(url.removeprefix(base), json={"id": "Opnel5aKBz", "name": "x"})
    assert response.status == 400  # v5 gives up without retrying
    assert dropped(hooked_proxy, event="create_client", reason="target_refused") == 1


async def test_allowed_targets_setting_narrows_targets(aiohttp_client, sandbox_server, receiver, sandbox_store):
    settings = hook_settings(sandbox_server, webhook_allowed_targets="hooks.example.com, 10.0.0.0/8")
    client = await aiohttp_client(create_app(settings), headers=V4_AUTH)
    response = await client.post("/api/v1/hooks", json={"event": "create_client", "target_url": receiver.url})
    assert response.status == 422
    assert "webhook_allowed_targets" in str(await response.json())
    settings = hook_settings(sandbox_server, webhook_allowed_targets="127.0.0.0/8")
    client = await aiohttp_client(create_app(settings), headers=V4_AUTH)
    await subscribe(client, "create_client", receiver.url)
    assert len(sandbox_store.table("webhooks")) == 1


async def test_a_target_that_stops_resolving_is_retried_not_refused(hooked_proxy):
    base = str(hooked_proxy.make_url("")).rstrip("/")
    url = relay_url(base, SECRET, "create_client", "http://no-such-host.invalid/hook")
    response = await hooked_proxy.post(url.removeprefix(base), json={"id": "Opnel5aKBz", "name": "x"})
    assert response.status == 202
    await eventually(lambda: dropped(hooked_proxy, event="create_client", reason="retries_exhausted") == 1)
    assert dropped(hooked_proxy, event="create_client", reason="target_refused") == 0
