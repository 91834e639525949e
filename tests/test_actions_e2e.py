"""End to end: v4 actions (`PUT ?action=`, `POST /email_invoice`, `GET /download/{id}`) through the
proxy against the sandbox, checked both in the v4 answer and in the sandbox's store."""

from __future__ import annotations

import asyncio

import pytest
from aiohttp import web

from ninja_bridge.app import create_app
from ninja_bridge.config import load_settings
from ninja_bridge.ids.codec import HashidCodec
from ninja_bridge.ids.translator import KIND_WINDOWS

from ninja_bridge.sandbox import SANDBOX_TOKEN

V4_AUTH = {"X-Ninja-Token": SANDBOX_TOKEN}

H = HashidCodec("").encode
QUOTE_1 = KIND_WINDOWS["quote"][0] + 201  # v4 id of sandbox quote key 201 in the shared invoice space
RECURRING_1 = KIND_WINDOWS["recurring_invoice"][0] + 201


async def v4_data(response, status: int = 200):
    assert response.status == status, await response.text()
    return (await response.json())["data"]


# --- PUT /{resource}/{id}?action= -----------------------------------------------------------


@pytest.mark.v4_route("PUT /api/v1/clients/{id}")
async def test_client_archive_restore_delete_by_query(proxy, sandbox_store):
    client = sandbox_store.table("clients").get(101)
    archived = await v4_data(await proxy.put("/api/v1/clients/101?action=archive"))
    assert archived["id"] == 101 and archived["archived_at"] and client["archived_at"]
    assert [c["email"] for c in archived["contacts"]]  # default include still there
    restored = await v4_data(await proxy.put("/api/v1/clients/101?action=restore"))
    assert restored["archived_at"] is None and not client["archived_at"]
    deleted = await v4_data(await proxy.put("/api/v1/clients/101?action=delete"))
    assert deleted["is_deleted"] is True and client["is_deleted"] is True


@pytest.mark.v4_route("PUT /api/v1/products/{id}")
async def test_action_in_the_json_body_without_other_fields(proxy, sandbox_store):
    # v4 validated product_key before the action ran; the proxy does not require it.
    product = await v4_data(await proxy.put("/api/v1/products/501", json={"action": "archive"}))
    assert product["id"] == 501 and product["archived_at"] and sandbox_store.table("products").get(501)["archived_at"]
    assert product["product_key"] == "DESIGN-HOUR"  # the action did not touch the fields


@pytest.mark.v4_route("PUT /api/v1/tax_rates/{id}")
async def test_body_action_wins_over_the_query(proxy, sandbox_store):
    rate = await v4_data(await proxy.put("/api/v1/tax_rates/61?action=restore", json={"action": "delete"}))
    assert rate["id"] == 61 and sandbox_store.table("tax_rates").get(61)["is_deleted"] is True


@pytest.mark.parametrize("resource, table, key", [
    ("credits", "credits", 201), ("projects", "projects", 651), ("expenses", "expenses", 701),
    ("vendors", "vendors", 751), ("tasks", "tasks", 601),
])
async def test_lifecycle_actions_on_part_two_resources(proxy, sandbox_store, resource, table, key):
    record = sandbox_store.table(table).get(key)
    archived = await v4_data(await proxy.put(f"/api/v1/{resource}/{key}?action=archive"))
    assert archived["id"] == key and archived["archived_at"] and record["archived_at"]
    await v4_data(await proxy.put(f"/api/v1/{resource}/{key}", json={"action": "restore"}))
    assert not record["archived_at"]
    deleted = await v4_data(await proxy.put(f"/api/v1/{resource}/{key}?action=delete"))
    assert deleted["is_deleted"] is True and record["is_deleted"] is True
    refused = await proxy.put(f"/api/v1/{resource}/{key}?action=start")  # task timers are POST /tasks
    assert refused.status == 400 and await refused.json() == {"error": "Action [start] is not supported"}


@pytest.mark.v4_route("PUT /api/v1/payments/{id}")
async def test_payment_delete_action_reverses_it(proxy, sandbox_store):
    payment = await v4_data(await proxy.put("/api/v1/payments/401?action=delete"))
    assert payment["is_deleted"] is True and sandbox_store.table("payments").get(401)["is_deleted"]


async def test_empty_action_is_a_plain_update(proxy, sandbox_store):
    product = await v4_data(await proxy.put("/api/v1/products/502?action=", json={"notes": "Renamed"}))
    assert product["notes"] == "Renamed" and not product["archived_at"]


@pytest.mark.parametrize("path, action", [
    ("/api/v1/invoices/202", "mark_paid"),  # only camelCase markPaid was a v4 action
    ("/api/v1/invoices/202", "clone"),
    ("/api/v1/clients/101", "markSent"),  # v4 allowed the name but its client repository crashed (500)
    ("/api/v1/products/501", "convert"),
    ("/api/v1/invoices/202", "convert"),  # convert is for quotes
])
async def test_unsupported_actions_answer_v4s_400(proxy, sandbox_store, path, action):
    before = dict(sandbox_store.table("invoices").get(202))
    response = await proxy.put(f"{path}?action={action}")
    assert response.status == 400
    assert await response.json() == {"error": f"Action [{action}] is not supported"}
    assert sandbox_store.table("invoices").get(202) == before


async def test_unknown_record_is_404_before_the_action_is_looked_at(proxy):
    response = await proxy.put("/api/v1/clients/99999?action=nonsense")
    assert response.status == 404 and await response.json() == {"message": "record does not exist"}
    response = await proxy.put("/api/v1/clients/0?action=archive")
    assert response.status == 404 and await response.json() == {"error": "Record not found"}


@pytest.mark.v4_route("PUT /api/v1/invoices/{id}")
async def test_invoice_mark_sent_and_mark_paid(proxy, sandbox_store):
    draft = sandbox_store.table("invoices").get(204)
    sent = await v4_data(await proxy.put("/api/v1/invoices/204?action=mark_sent"))
    assert sent["invoice_status_id"] == 2 and draft["status_id"] == "2"
    payments_before = len(list(sandbox_store.table("payments")))
    paid = await v4_data(await proxy.put("/api/v1/invoices/204", json={"action": "markPaid"}))
    assert paid["invoice_status_id"] == 6 and paid["balance"] == 0 and paid["invoice_items"]
    assert len(list(sandbox_store.table("payments"))) == payments_before + 1
    again = await v4_data(await proxy.put("/api/v1/invoices/204?action=markPaid"))  # v4: a no-op, not an error
    assert again["invoice_status_id"] == 6 and len(list(sandbox_store.table("payments"))) == payments_before + 1


async def test_invoice_email_action_sends(proxy, sandbox_store):
    invoice = await v4_data(await proxy.put("/api/v1/invoices/204?action=emailInvoice"))
    assert invoice["id"] == 204 and invoice["invoice_status_id"] == 2
    invitations = sandbox_store.table("invitations").where(entity_type="invoices", entity_id=204)
    assert invitations and all(i["sent_date"] for i in invitations)


@pytest.mark.v4_route("PUT /api/v1/invoices/{id}")
async def test_quote_convert_answers_the_new_invoice(proxy, sandbox_store):
    invoices_before = {row["id"] for row in sandbox_store.table("invoices")}
    invoice = await v4_data(await proxy.put(f"/api/v1/invoices/{QUOTE_1}?action=convert"))
    [new_key] = {row["id"] for row in sandbox_store.table("invoices")} - invoices_before
    assert invoice["id"] == new_key != QUOTE_1 and invoice["is_quote"] is False
    assert sandbox_store.table("quotes").get(201)["invoice_id"] == new_key
    assert [item["product_key"] for item in invoice["invoice_items"]]


async def test_quote_archive_answers_the_quote_by_its_v4_id(proxy, sandbox_store):
    quote = await v4_data(await proxy.put(f"/api/v1/invoices/{QUOTE_1}?action=archive"))
    assert quote["id"] == QUOTE_1 and quote["is_quote"] is True and quote["archived_at"]
    assert sandbox_store.table("quotes").get(201)["archived_at"]
    assert not sandbox_store.table("invoices").get(201)["archived_at"]  # same v5 key, other table
    unpaid = await v4_data(await proxy.put(f"/api/v1/invoices/{QUOTE_1}?action=markPaid"))
    assert unpaid["id"] == QUOTE_1 and sandbox_store.table("quotes").get(201)["status_id"] == "2"


async def test_recurring_invoice_actions_go_through_bulk(proxy, sandbox_store):
    recurring = sandbox_store.table("recurring_invoices").get(201)
    answered = await v4_data(await proxy.put(f"/api/v1/invoices/{RECURRING_1}?action=archive"))
    assert answered["id"] == RECURRING_1 and recurring["archived_at"]
    await v4_data(await proxy.put(f"/api/v1/invoices/{RECURRING_1}?action=markSent"))
    assert recurring["status_id"] == "2"  # v5 active


# --- POST /email_invoice ---------------------------------------------------------------------


@pytest.mark.parametrize("field", ["id", "invoice_id", "public_id"])
@pytest.mark.v4_route("POST /api/v1/email_invoice")
async def test_email_invoice_answers_bare_success(proxy, sandbox_store, field):
    response = await proxy.post("/api/v1/email_invoice", json={field: 204})
    assert response.status == 200 and await response.json() == {"message": "success"}
    invitations = sandbox_store.table("invitations").where(entity_type="invoices", entity_id=204)
    assert all(i["sent_date"] for i in invitations) and sandbox_store.table("invoices").get(204)["status_id"] == "2"


@pytest.mark.v4_route("POST /api/v1/email_invoice")
async def test_email_invoice_by_number_and_for_a_quote(proxy, sandbox_store):
    response = await proxy.post("/api/v1/email_invoice", json={"invoice_number": "0004"})
    assert await response.json() == {"message": "success"}
    assert sandbox_store.table("invoices").get(204)["status_id"] == "2"
    response = await proxy.post("/api/v1/email_invoice", json={"id": KIND_WINDOWS["quote"][0] + 202})
    assert await response.json() == {"message": "success"}
    assert sandbox_store.table("quotes").get(202)["status_id"] == "2"


@pytest.mark.v4_route("POST /api/v1/email_invoice")
async def test_email_invoice_errors(proxy):
    missing = await proxy.post("/api/v1/email_invoice", json={})
    assert missing.status == 400 and "invoice" in (await missing.json())["error"]["message"]
    unknown = await proxy.post("/api/v1/email_invoice", json={"id": 99999})
    assert unknown.status == 404 and await unknown.json() == {"message": "record does not exist"}
    bad_json = await proxy.post("/api/v1/email_invoice", data=b"{nope", headers={"Content-Type": "application/json"})
    assert bad_json.status == 400


# --- GET /download/{id} ----------------------------------------------------------------------


@pytest.mark.v4_route("GET /api/v1/download/{id}")
async def test_download_has_v4_headers(proxy):
    response = await proxy.get("/api/v1/download/202", headers={"X-Request-ID": "pdf-1"})
    body = await response.read()
    assert response.status == 200 and body.startswith(b"%PDF-1.4") and b"Invoice 0002" in body
    assert response.headers["Content-Type"] == "application/pdf"
    assert response.headers["Content-Disposition"] == 'attachment; filename="Invoice_0002.pdf"'
    assert response.headers["Content-Length"] == str(len(body))
    assert response.headers["Cache-Control"] == "public, must-revalidate, max-age=0"
    assert response.headers["Last-Modified"].endswith("GMT")
    assert response.headers["X-Request-ID"] == "pdf-1"  # streamed: headers left before the middleware saw them


@pytest.mark.v4_route("GET /api/v1/download/{id}")
async def test_download_of_a_quote(proxy):
    response = await proxy.get(f"/api/v1/download/{QUOTE_1}")
    assert response.headers["Content-Disposition"] == 'attachment; filename="Quote_0001.pdf"'
    assert b"Quote 0001" in await response.read()


@pytest.mark.parametrize("path, body", [
    ("/api/v1/download/207", {"error": {"message": "Route does not exist"}}),  # deleted: v4 abort(404)
    ("/api/v1/download/99999", {"message": "record does not exist"}),
    ("/api/v1/download/abc", {"message": "record does not exist"}),
    (f"/api/v1/download/{RECURRING_1}", {"error": {"message": "Route does not exist"}}),  # no v5 PDF route
])
@pytest.mark.v4_route("GET /api/v1/download/{id}")
async def test_download_not_found(proxy, path, body):
    response = await proxy.get(path)
    assert response.status == 404 and await response.json() == body


@pytest.mark.v4_route("GET /api/v1/download/{id}")
async def test_large_pdf_arrives_whole_in_many_chunks(proxy, sandbox_store):
    sandbox_store.pdf_size = 50 * 1024 * 1024
    response = await proxy.get("/api/v1/download/202")
    assert response.status == 200 and response.headers["Content-Length"] == str(50 * 1024 * 1024)
    size, chunks, head, tail = 0, 0, b"", b""
    async for chunk in response.content.iter_chunked(1024 * 1024):
        head = head or chunk[:8]
        tail = (tail + chunk)[-6:]
        size += len(chunk)
        chunks += 1
    assert size == 50 * 1024 * 1024 and chunks > 10 and head == b"%PDF-1.4" and tail == b"%%EOF\n"


# A v5 stand-in whose PDF stops half way until the test lets it go on: a proxy that buffered the
# PDF could not hand the client the first half before the upstream finished.

def gated_upstream(gate: asyncio.Event, finished: asyncio.Event, cut: bool = False) -> web.Application:
    key = H(202)

    async def show(request: web.Request) -> web.Response:
        return web.json_response({"data": {"id": key, "number": "0002", "entity_type": "invoice",
                                           "is_deleted": False}})

    async def download(request: web.Request) -> web.StreamResponse:
        response = web.StreamResponse(headers={"Content-Type": "application/pdf"})
        response.content_length = 2 * 65536
        await response.prepare(request)
        await response.write(b"%PDF-1.4" + b"x" * (65536 - 8))
        await gate.wait()
        if cut:
            request.transport.close()
            return response
        await response.write(b"y" * 65536)
        await response.write_eof()
        finished.set()
        return response

    app = web.Application()
    app.router.add_get(f"/api/v1/invoices/{key}", show)
    app.router.add_get(f"/api/v1/invoices/{key}/download", download)
    return app


async def gated_proxy(aiohttp_server, aiohttp_client, gate, finished, cut=False):
    upstream = await aiohttp_server(gated_upstream(gate, finished, cut), host="127.0.0.1")
    settings = load_settings(upstream=str(upstream.make_url("")).rstrip("/"), upstream_total_timeout=10,
                             upstream_read_timeout=5)
    return await aiohttp_client(create_app(settings), headers=V4_AUTH)


@pytest.mark.v4_route("GET /api/v1/download/{id}")
async def test_download_streams_before_the_upstream_finishes(aiohttp_server, aiohttp_client):
    gate, finished = asyncio.Event(), asyncio.Event()
    client = await gated_proxy(aiohttp_server, aiohttp_client, gate, finished)
    response = await asyncio.wait_for(client.get("/api/v1/download/202"), 5)
    first = await asyncio.wait_for(response.content.readexactly(65536), 5)
    assert first.startswith(b"%PDF-1.4") and not finished.is_set()
    gate.set()
    rest = await asyncio.wait_for(response.content.read(), 5)
    assert rest == b"y" * 65536 and finished.is_set()


async def test_download_cut_upstream_cuts_the_client(aiohttp_server, aiohttp_client):
    gate, finished = asyncio.Event(), asyncio.Event()
    client = await gated_proxy(aiohttp_server, aiohttp_client, gate, finished, cut=True)
    response = await asyncio.wait_for(client.get("/api/v1/download/202"), 5)
    gate.set()
    with pytest.raises(Exception) as raised:  # never a short body that looks complete
        await asyncio.wait_for(response.read(), 5)
    assert not isinstance(raised.value, asyncio.TimeoutError)


@pytest.mark.parametrize("declared, status", [({}, 400), (None, 200)])
async def test_empty_table_refuses_and_no_table_updates(aiohttp_client, proxy_settings, sandbox_store, declared,
                                                        status):
    from ninja_bridge.translate.spec import load_mappings
    from ninja_bridge.translate.structural import known_functions

    mappings = load_mappings(known_functions=known_functions())
    mappings.resources["products"].actions = declared
    client = await aiohttp_client(create_app(proxy_settings, mappings=mappings), headers=V4_AUTH)
    response = await client.put("/api/v1/products/503?action=archive", json={"notes": "kept"})
    assert response.status == status, await response.text()
    product = sandbox_store.table("products").get(503)
    assert not product["archived_at"]  # neither archived...
    assert (product["notes"] == "kept") is (declared is None)  # ...and only the plain update wrote
