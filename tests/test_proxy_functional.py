"""End to end for part 1: v4 requests through the proxy to the sandbox, over real sockets."""

from __future__ import annotations

import asyncio

import orjson
import pytest
from aiohttp import web

from ninja_bridge.app import create_app
from ninja_bridge.config import load_settings
from ninja_bridge.sandbox import SANDBOX_TOKEN
from ninja_bridge.sandbox import create_app as create_sandbox

V4_AUTH = {"X-Ninja-Token": SANDBOX_TOKEN}

JSON = {"Content-Type": "application/json"}


async def get_json(client, path, status=200, **kwargs):
    response = await client.get(path, **kwargs)
    assert response.status == status, await response.text()
    return await response.json()


async def send(client, method, path, body, status=200):
    response = await client.request(method, path, data=orjson.dumps(body), headers=JSON)
    assert response.status == status, await response.text()
    return await response.json()


def v5_key(store, table, v4_id):
    """Under the plain scheme the v4 id of a record is its v5 primary key."""
    return store.table(table).rows[v4_id]


# -- authentication -----------------------------------------------------------------------------

async def test_missing_and_wrong_tokens_get_v4_403(anonymous_proxy):
    response = await anonymous_proxy.get("/api/v1/clients")
    assert response.status == 403
    assert await response.json() == {"error": {"message": "Invalid token"}}
    response = await anonymous_proxy.get("/api/v1/clients", headers={"X-Ninja-Token": "x" * 32})
    assert response.status == 403
    assert await response.json() == {"error": {"message": "Invalid token"}}


async def test_x_api_token_is_accepted_too(anonymous_proxy):
    body = await get_json(anonymous_proxy, "/api/v1/tax_rates", headers={"X-API-TOKEN": SANDBOX_TOKEN})
    assert len(body["data"]) > 0


async def test_headers_sent_upstream(aiohttp_server, aiohttp_client):
    seen = []

    async def record(request: web.Request) -> web.Response:
        seen.append(request.headers.copy())
        return web.json_response({"data": {"id": "Opnel5aKBz", "name": "VAT", "rate": 20}})

    upstream_app = web.Application()
    upstream_app.router.add_get("/api/v1/tax_rates/{id}", record)
    upstream = await aiohttp_server(upstream_app, host="127.0.0.1")
    proxy = await aiohttp_client(create_app(load_settings(upstream=str(upstream.make_url("")).rstrip("/"))))
    response = await proxy.get("/api/v1/tax_rates/3", headers={
        "X-Ninja-Token": "legacy-token", "Connection": "keep-alive", "Proxy-Authorization": "Basic eA==",
        "X-Ninja-Secret": "s3cret"})
    assert response.status == 200
    assert (await response.json())["data"]["name"] == "VAT"
    headers = seen[0]
    assert headers["X-API-TOKEN"] == "legacy-token"
    assert headers["X-Requested-With"] == "XMLHttpRequest"
    assert headers["Accept"] == "application/json"
    for dropped in ("X-Ninja-Token", "Proxy-Authorization", "X-Ninja-Secret", "X-API-SECRET"):
        assert dropped not in headers


# -- clients ------------------------------------------------------------------------------------

@pytest.mark.v4_route("POST /api/v1/clients")
@pytest.mark.v4_route("PUT /api/v1/clients/{id}")
@pytest.mark.v4_route("GET /api/v1/clients/{id}")
@pytest.mark.v4_route("DELETE /api/v1/clients/{id}")
async def test_client_crud_with_contacts(proxy, sandbox_store):
    created = (await send(proxy, "POST", "/api/v1/clients",
                          {"name": "Acme Ltd", "work_phone": "555-0101", "id_number": "AC-1",
                           "contact": {"email": "jo@acme.example", "first_name": "Jo"}}))["data"]
    assert isinstance(created["id"], int) and created["id"] > 0
    assert created["work_phone"] == "555-0101" and created["id_number"] == "AC-1"
    assert [c["email"] for c in created["contacts"]] == ["jo@acme.example"]
    assert isinstance(created["user_id"], int)
    row = v5_key(sandbox_store, "clients", created["id"])
    assert row["phone"] == "555-0101" and row["number"] == "AC-1"

    contact_id = created["contacts"][0]["id"]
    updated = (await send(proxy, "PUT", f"/api/v1/clients/{created['id']}", {
        "name": "Acme Limited",
        "contacts": [{"id": contact_id, "first_name": "Joanna", "email": "jo@acme.example"},
                     {"first_name": "Sam", "email": "sam@acme.example"}]}))["data"]
    assert updated["name"] == "Acme Limited"
    names = {c["first_name"]: c["id"] for c in updated["contacts"]}
    assert names["Joanna"] == contact_id  # the existing contact kept its id: it was hashed, not dropped
    assert "Sam" in names and "user_id" not in updated

    shown = (await get_json(proxy, f"/api/v1/clients/{created['id']}"))["data"]
    assert shown["name"] == "Acme Limited" and shown["archived_at"] is None

    deleted = (await send(proxy, "DELETE", f"/api/v1/clients/{created['id']}", None))["data"]
    assert deleted["is_deleted"] is True and isinstance(deleted["archived_at"], int)


@pytest.mark.v4_route("GET /api/v1/clients")
async def test_client_filters(proxy, sandbox_store):
    by_email = await get_json(proxy, "/api/v1/clients?email=liam.chen@blueharbor.example")
    assert [c["name"] for c in by_email["data"]] == ["Blue Harbor Consulting"]
    northwind = [c for c in (await get_json(proxy, "/api/v1/clients"))["data"] if c["name"] == "Northwind Traders"]
    by_number = await get_json(proxy, f"/api/v1/clients?id_number={northwind[0]['id_number']}")
    assert [c["name"] for c in by_number["data"]] == ["Northwind Traders"]
    victim = by_number["data"][0]["id"]
    await send(proxy, "DELETE", f"/api/v1/clients/{victim}", None)
    everything = await get_json(proxy, "/api/v1/clients?per_page=100")
    active = await get_json(proxy, "/api/v1/clients?per_page=100&filter_active=1")
    assert victim in [c["id"] for c in everything["data"]]  # v4 lists showed deleted rows too
    assert victim not in [c["id"] for c in active["data"]]
    latest = max(c["updated_at"] for c in everything["data"])
    recent = await get_json(proxy, f"/api/v1/clients?updated_at={latest}")
    assert [c["updated_at"] for c in recent["data"]] == [latest]


# -- pagination ---------------------------------------------------------------------------------

@pytest.mark.v4_route("GET /api/v1/products")
async def test_v4_pagination_defaults_and_links(proxy):
    first = await get_json(proxy, "/api/v1/products")
    meta = first["meta"]["pagination"]
    assert len(first["data"]) == 15 == meta["per_page"] == meta["count"]
    assert meta["current_page"] == 1 and meta["total"] >= 25 and meta["total_pages"] == 2
    next_link = meta["links"]["next"]
    assert next_link == str(proxy.make_url("/api/v1/products?page=2"))
    assert "previous" not in meta["links"]
    second = await get_json(proxy, next_link.split(str(proxy.make_url("")), 1)[1])
    assert second["meta"]["pagination"]["current_page"] == 2
    assert second["meta"]["pagination"]["links"] == {"previous": str(proxy.make_url("/api/v1/products?page=1"))}
    assert not {p["id"] for p in first["data"]} & {p["id"] for p in second["data"]}
    whole = await get_json(proxy, "/api/v1/products?per_page=100")
    assert whole["meta"]["pagination"]["links"] == []  # v4 wrote an empty array, not {}


async def test_list_order_is_v4s_newest_first(proxy):
    rows = (await get_json(proxy, "/api/v1/products?per_page=100"))["data"]
    stamps = [p["updated_at"] for p in rows]
    assert stamps == sorted(stamps, reverse=True)


# -- products and tax rates ---------------------------------------------------------------------

@pytest.mark.v4_route("POST /api/v1/products")
@pytest.mark.v4_route("PUT /api/v1/products/{id}")
@pytest.mark.v4_route("DELETE /api/v1/products/{id}")
async def test_product_crud_maps_cost_to_price(proxy, sandbox_store):
    created = (await send(proxy, "POST", "/api/v1/products",
                          {"product_key": "WIDGET", "notes": "A widget", "cost": 12.5, "qty": 3}))["data"]
    assert (created["product_key"], created["cost"], created["qty"]) == ("WIDGET", 12.5, 3)
    row = v5_key(sandbox_store, "products", created["id"])
    assert row["price"] == 12.5 and row["quantity"] == 3
    updated = (await send(proxy, "PUT", f"/api/v1/products/{created['id']}",
                          {"product_key": "WIDGET", "cost": 14}))["data"]
    assert updated["cost"] == 14
    assert (await send(proxy, "DELETE", f"/api/v1/products/{created['id']}", None))["data"]["is_deleted"] is True


@pytest.mark.v4_route("POST /api/v1/tax_rates")
@pytest.mark.v4_route("GET /api/v1/tax_rates/{id}")
@pytest.mark.v4_route("PUT /api/v1/tax_rates/{id}")
@pytest.mark.v4_route("GET /api/v1/tax_rates")
@pytest.mark.v4_route("DELETE /api/v1/tax_rates/{id}")
async def test_tax_rate_crud(proxy):
    created = (await send(proxy, "POST", "/api/v1/tax_rates", {"name": "GST-test", "rate": 5}))["data"]
    assert (created["name"], created["rate"], created["is_inclusive"]) == ("GST-test", 5, False)
    shown = (await get_json(proxy, f"/api/v1/tax_rates/{created['id']}"))["data"]
    assert shown["name"] == "GST-test"
    updated = (await send(proxy, "PUT", f"/api/v1/tax_rates/{created['id']}", {"name": "GST-test", "rate": 7.5}))["data"]
    assert updated["rate"] == 7.5
    listed = await get_json(proxy, "/api/v1/tax_rates")
    assert created["id"] in [t["id"] for t in listed["data"]]
    deleted = (await send(proxy, "DELETE", f"/api/v1/tax_rates/{created['id']}", None))["data"]
    assert deleted["archived_at"] is not None  # v4 tax rates have no is_deleted


# -- invoices -----------------------------------------------------------------------------------

async def a_client_id(proxy):
    clients = (await get_json(proxy, "/api/v1/clients"))["data"]
    return next(c["id"] for c in clients if c["name"] == "Blue Harbor Consulting")


@pytest.mark.v4_route("POST /api/v1/invoices")
@pytest.mark.v4_route("GET /api/v1/invoices/{id}")
@pytest.mark.v4_route("PUT /api/v1/invoices/{id}")
@pytest.mark.v4_route("GET /api/v1/invoices")
@pytest.mark.v4_route("DELETE /api/v1/invoices/{id}")
async def test_invoice_crud_with_items_and_includes(proxy, sandbox_store):
    client_id = await a_client_id(proxy)
    created = (await send(proxy, "POST", "/api/v1/invoices", {
        "client_id": str(client_id), "invoice_number": "V4-0001", "po_number": "PO-9",
        "invoice_items": [{"product_key": "ITEM", "notes": "Test", "cost": 10, "qty": 2},
                          {"product_key": "MORE", "cost": 5.5, "qty": 1}]}))["data"]
    assert created["client_id"] == client_id and created["invoice_number"] == "V4-0001"
    assert created["amount"] == 25.5 and created["invoice_status_id"] == 1
    assert [(i["product_key"], i["qty"], i["cost"]) for i in created["invoice_items"]] == [
        ("ITEM", 2, 10), ("MORE", 1, 5.5)]
    row = v5_key(sandbox_store, "invoices", created["id"])
    assert row["number"] == "V4-0001" and row["client_id"] == client_id

    shown = (await get_json(proxy, f"/api/v1/invoices/{created['id']}?include=invitations,client"))["data"]
    assert shown["client"]["id"] == client_id and shown["client"]["contacts"]
    assert all(isinstance(i["id"], int) for i in shown["invitations"])

    updated = (await send(proxy, "PUT", f"/api/v1/invoices/{created['id']}", {
        "invoice_items": [{"product_key": "ONLY", "cost": 7, "qty": 1}]}))["data"]
    assert [i["product_key"] for i in updated["invoice_items"]] == ["ONLY"]  # v4 PUT replaced the items
    assert updated["amount"] == 7

    found = await get_json(proxy, "/api/v1/invoices?invoice_number=V4-0001")
    assert [i["id"] for i in found["data"]] == [created["id"]]
    by_client = await get_json(proxy, f"/api/v1/invoices?client_id={client_id}&per_page=100")
    assert by_client["data"] and all(i["client_id"] == client_id for i in by_client["data"])
    deleted = (await send(proxy, "DELETE", f"/api/v1/invoices/{created['id']}", None))["data"]
    assert deleted["is_deleted"] is True


async def test_unknown_includes_never_reach_v5(proxy):
    # v5 answers 400 for a list include that is not a relation; v4 ignored unknown includes.
    body = await get_json(proxy, "/api/v1/invoices?include=invoice_items,bogus,invitations")
    assert body["data"] and "bogus" not in body["data"][0] and "invitations" in body["data"][0]


async def test_client_include_invoices_is_fanned_out(proxy):
    client_id = await a_client_id(proxy)
    body = await get_json(proxy, f"/api/v1/clients/{client_id}?include=invoices.invitations")
    invoices = body["data"]["invoices"]
    assert invoices and all(i["client_id"] == client_id for i in invoices)
    assert all("invitations" in i and "invoice_items" in i for i in invoices)


# -- payments -----------------------------------------------------------------------------------

@pytest.mark.v4_route("POST /api/v1/payments")
@pytest.mark.v4_route("GET /api/v1/payments/{id}")
@pytest.mark.v4_route("GET /api/v1/payments")
@pytest.mark.v4_route("PUT /api/v1/payments/{id}")
@pytest.mark.v4_route("DELETE /api/v1/payments/{id}")
async def test_payment_create_names_only_the_invoice(proxy):
    client_id = await a_client_id(proxy)
    invoice = (await send(proxy, "POST", "/api/v1/invoices", {
        "client_id": client_id, "invoice_items": [{"cost": 100, "qty": 1}]}))["data"]
    payment = (await send(proxy, "POST", "/api/v1/payments", {
        "invoice_id": invoice["id"], "amount": 40, "payment_type_id": 3, "transaction_reference": "T-1"}))["data"]
    assert payment["invoice_id"] == invoice["id"] and payment["amount"] == 40
    assert payment["payment_type_id"] == 3 and payment["invoice_number"] == invoice["invoice_number"]
    after = (await get_json(proxy, f"/api/v1/invoices/{invoice['id']}"))["data"]
    assert after["balance"] == 60 and after["invoice_status_id"] == 5  # partial, in v4 numbers
    shown = (await get_json(proxy, f"/api/v1/payments/{payment['id']}?include=invoice,client"))["data"]
    assert shown["invoice"]["id"] == invoice["id"] and shown["client"]["id"] == client_id
    listed = await get_json(proxy, f"/api/v1/payments?client_id={client_id}")
    assert payment["id"] in [p["id"] for p in listed["data"]]
    updated = (await send(proxy, "PUT", f"/api/v1/payments/{payment['id']}", {"private_notes": "checked"}))["data"]
    assert updated["private_notes"] == "checked"
    assert (await send(proxy, "DELETE", f"/api/v1/payments/{payment['id']}", None))["data"]["is_deleted"] is True


async def test_payment_for_an_unknown_invoice_is_404(proxy):
    body = await send(proxy, "POST", "/api/v1/payments", {"invoice_id": 999999, "amount": 1}, status=404)
    assert body == {"error": {"message": "Invoice 999999 does not exist"}}
    body = await send(proxy, "POST", "/api/v1/payments", {"amount": 1}, status=422)
    assert body["errors"] == {"invoice_id": ["The invoice id field is required."]}


# -- errors -------------------------------------------------------------------------------------

async def test_not_found_shapes(proxy):
    assert await get_json(proxy, "/api/v1/clients/999999", status=404) == {"message": "record does not exist"}
    assert await get_json(proxy, "/api/v1/clients/abc", status=404) == {"message": "record does not exist"}
    assert await get_json(proxy, "/api/v1/clients/0", status=404) == {"error": "Record not found"}
    assert await get_json(proxy, "/api/v1/nowhere", status=404) == {"error": {"message": "Route does not exist"}}
    assert await get_json(proxy, "/elsewhere", status=404) == {"error": {"message": "Route does not exist"}}


async def test_validation_errors_use_v4_field_names(proxy):
    body = await send(proxy, "POST", "/api/v1/invoices", {"invoice_items": [{"cost": 1, "qty": 1}]}, status=422)
    assert body["message"] == "The given data was invalid." and "client_id" in body["errors"]
    client_id = await a_client_id(proxy)
    await send(proxy, "POST", "/api/v1/invoices", {"client_id": client_id, "invoice_number": "DUP-1"})
    body = await send(proxy, "POST", "/api/v1/invoices", {"client_id": client_id, "invoice_number": "DUP-1"},
                      status=422)
    assert list(body["errors"]) == ["invoice_number"]
    assert all("invoice_number" in text for text in body["errors"]["invoice_number"])
    body = await send(proxy, "POST", "/api/v1/clients", {"contacts": [{"email": "not-an-email"}]}, status=422)
    assert list(body["errors"]) == ["contacts.0.email"]


async def test_bad_ids_and_bodies(proxy):
    body = await send(proxy, "POST", "/api/v1/invoices", {"client_id": "abc"}, status=422)
    assert list(body["errors"]) == ["client_id"]
    response = await proxy.post("/api/v1/clients", data=b'{"name": ', headers=JSON)
    assert response.status == 400
    assert (await response.json())["error"]["message"].startswith("The request body is not valid JSON")
    response = await proxy.post("/api/v1/clients", data=b'[1, 2]', headers=JSON)
    assert response.status == 400


async def test_get_with_a_null_body_is_fine(proxy):
    # The v4 API test sent the 4-byte body `null` with every GET (v4-api.md §9).
    response = await proxy.request("GET", "/api/v1/clients", data=b"null", headers=JSON)
    assert response.status == 200


async def test_dead_upstream_is_502(aiohttp_client, unused_tcp_port_factory):
    port = unused_tcp_port_factory()
    settings = load_settings(upstream=f"http://127.0.0.1:{port}", upstream_retries=1)
    proxy = await aiohttp_client(create_app(settings), headers=V4_AUTH)
    response = await proxy.get("/api/v1/clients")
    assert response.status == 502
    assert "could not be reached" in (await response.json())["error"]["message"]


async def test_slow_upstream_is_504_not_a_hang(aiohttp_server, aiohttp_client):
    async def slow(request: web.Request) -> web.Response:
        await asyncio.sleep(5)
        return web.json_response({"data": []})

    upstream_app = web.Application()
    upstream_app.router.add_get("/api/v1/clients", slow)
    upstream = await aiohttp_server(upstream_app, host="127.0.0.1")
    settings = load_settings(upstream=str(upstream.make_url("")).rstrip("/"), upstream_total_timeout=0.3)
    proxy = await aiohttp_client(create_app(settings), headers=V4_AUTH)
    started = asyncio.get_running_loop().time()
    response = await proxy.get("/api/v1/clients")
    assert response.status == 504
    assert asyncio.get_running_loop().time() - started < 3
    assert "did not answer within" in (await response.json())["error"]["message"]


async def test_broken_upstream_answer_is_a_v4_error(aiohttp_server, aiohttp_client):
    async def garbage(request: web.Request) -> web.Response:
        return web.Response(text="<html>oops</html>", content_type="text/html")

    upstream_app = web.Application()
    upstream_app.router.add_get("/api/v1/clients", garbage)
    upstream = await aiohttp_server(upstream_app, host="127.0.0.1")
    proxy = await aiohttp_client(create_app(load_settings(upstream=str(upstream.make_url("")).rstrip("/"))),
                                 headers=V4_AUTH)
    response = await proxy.get("/api/v1/clients")
    assert response.status == 502
    assert "error" in await response.json()


# -- the v4 API's own scenario (v4-api.md §9), the part-1 resources -----------------------------

async def test_v4_api_scenario(proxy):
    async def call(method, path, data=None):
        # as APICest's curl did: JSON body on every request (`null` on GETs), statuses never checked
        response = await proxy.request(method, f"/api/v1/{path}", data=orjson.dumps(data), headers=JSON)
        return await response.json()

    async def create(kind, data):
        body = await call("POST", kind + "s", data)
        assert "data" in body, body
        assert isinstance(body["data"]["id"], int) and body["data"]["id"] > 0, body
        return body["data"]["id"]

    async def listed(path):
        body = await call("GET", path)
        assert len(body["data"]) > 0, body

    client_id = await create("client", {"contact": {"email": "scenario@example.com"}})
    await listed("clients")
    invoice_id = await create("invoice", {"client_id": client_id, "invoice_items": [{"qty": 3, "cost": 7}]})
    await listed("invoices")
    await create("payment", {"invoice_id": invoice_id, "amount": 1})
    await listed("payments")
    await create("tax_rate", {"name": "word", "rate": 4})
    await listed("tax_rates")
    await create("product", {"product_key": "word", "notes": "Some text"})
    await create("product", {"product_key": "word", "notes": "Same key again"})  # v4 allowed duplicates
    await listed("products")


async def test_a_salted_v5_server(aiohttp_server, aiohttp_client):
    salted = create_sandbox(token=SANDBOX_TOKEN, hash_salt="pepper", seed=True)
    upstream = await aiohttp_server(salted, host="127.0.0.1")
    base = str(upstream.make_url("")).rstrip("/")
    proxy = await aiohttp_client(create_app(load_settings(upstream=base, hash_salt="pepper")), headers=V4_AUTH)
    clients = (await get_json(proxy, "/api/v1/clients"))["data"]
    first = clients[0]["id"]
    assert first in salted["store"].table("clients").rows
    assert (await get_json(proxy, f"/api/v1/clients/{first}"))["data"]["name"] == clients[0]["name"]
    unsalted = await aiohttp_client(create_app(load_settings(upstream=base)), headers=V4_AUTH)
    response = await unsalted.get("/api/v1/clients")
    assert response.status == 502  # a wrong salt cannot decode v5's ids: an error, never wrong ids
    assert "HASH_SALT" in (await response.json())["error"]["message"]
