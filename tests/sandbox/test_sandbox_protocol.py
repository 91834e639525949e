"""The v5 protocol around the data: token auth, hashed ids, error shapes, envelopes, pagination, includes."""

from __future__ import annotations

from urllib.parse import parse_qs, urlsplit

from ninja_bridge.ids.codec import HashidCodec
from ninja_bridge.sandbox import SANDBOX_TOKEN, SandboxStore, create_app

CODEC = HashidCodec("")
JSON_CLIENT = {"X-Requested-With": "XMLHttpRequest", "Accept": "application/json"}
AUTH = {"X-API-TOKEN": SANDBOX_TOKEN, **JSON_CLIENT}


def first_key(store: SandboxStore, kind: str) -> int:
    return next(iter(store.table(kind).rows))


async def test_token_is_64_chars_and_required(anonymous):
    assert len(SANDBOX_TOKEN) == 64
    missing = await anonymous.get("/api/v1/clients")
    wrong = await anonymous.get("/api/v1/clients", headers={"X-API-TOKEN": "x" * 64})
    legacy_header = await anonymous.get("/api/v1/clients", headers={"X-Ninja-Token": SANDBOX_TOKEN})
    for response in (missing, wrong, legacy_header):
        assert response.status == 403
        assert await response.json() == {"message": "Invalid token", "errors": {}}
    ok = await anonymous.get("/api/v1/clients", headers={"X-API-TOKEN": SANDBOX_TOKEN})
    assert ok.status == 200


async def test_custom_token(aiohttp_client):
    app = create_app(token="t" * 64, seed=False)
    client = await aiohttp_client(app, headers=JSON_CLIENT)
    assert (await client.get("/api/v1/clients", headers={"X-API-TOKEN": SANDBOX_TOKEN})).status == 403
    response = await client.get("/api/v1/clients", headers={"X-API-TOKEN": "t" * 64})
    assert response.status == 200
    assert (await response.json())["data"] == []


async def test_unknown_route_and_wrong_method_are_404_before_auth(anonymous, client):
    response = await anonymous.get("/api/v1/no_such_thing")
    assert response.status == 404
    assert await response.json() == {"message": "404 | Nothing to see here!"}
    response = await client.post("/api/v1/clients/VolejRejNm")
    assert response.status == 404
    assert await response.json() == {"message": "Method not supported for this route"}
    response = await anonymous.delete("/api/v1/clients")
    assert response.status == 404
    assert await response.json() == {"message": "Method not supported for this route"}


async def test_errors_are_json_only_for_clients_that_expect_json(browser):
    """Without X-Requested-With (or a JSON Accept) v5 falls back to Laravel's HTML pages and redirects."""
    not_found = await browser.get("/api/v1/clients/123")
    assert not_found.status == 404 and not_found.content_type == "text/html"
    invalid = await browser.post("/api/v1/invoices", json={}, allow_redirects=False)
    assert invalid.status == 302 and invalid.headers["Location"].endswith("/")
    wrong_method = await browser.delete("/api/v1/clients")
    assert wrong_method.status == 405 and wrong_method.content_type == "text/html"
    bad_include = await browser.get("/api/v1/invoices?include=invoice_items")
    assert bad_include.status == 500 and bad_include.content_type == "text/html"
    # token errors, the fallback route and successful answers are JSON for everyone
    assert (await browser.get("/api/v1/nowhere")).content_type == "application/json"
    assert (await browser.get("/api/v1/clients", headers={"X-API-TOKEN": "x"})).status == 403
    assert (await browser.get("/api/v1/clients")).content_type == "application/json"
    # a JSON Accept header alone is enough
    json_accept = await browser.get("/api/v1/clients/123", headers={"Accept": "application/json"})
    assert json_accept.status == 400


async def test_ids_are_hashed_with_realistic_keys(client, store):
    body = await (await client.get("/api/v1/clients")).json()
    first = body["data"][0]
    assert CODEC.decode(first["id"]) == 101  # keys do not start at 1
    assert len(first["id"]) == 10
    assert CODEC.decode(first["user_id"]) == store.owner_user_key
    assert first["assigned_user_id"] == ""  # a null foreign key is ""
    assert first["country_id"] == "840"  # static lookup ids are numeric strings
    assert isinstance(first["created_at"], int) and first["archived_at"] == 0
    contact = first["contacts"][0]
    assert CODEC.decode(contact["id"]) == first_key(store, "client_contacts")
    # invoices, quotes, credits and recurring invoices are separate tables whose keys collide
    assert first_key(store, "invoices") == first_key(store, "quotes") == first_key(store, "credits")
    assert all(row["id"] < 2**29 for table in store.tables.values() for row in table)


async def test_hash_salt_changes_ids(aiohttp_client):
    app = create_app(hash_salt="pepper", seed=True)
    client = await aiohttp_client(app, headers=AUTH)
    body = await (await client.get("/api/v1/clients")).json()
    hashed = body["data"][0]["id"]
    assert HashidCodec("pepper").decode(hashed) == 101
    assert CODEC.decode(hashed) != 101
    # the unsalted hash of the same key is not found under this salt
    response = await client.get(f"/api/v1/clients/{CODEC.encode(101)}")
    assert response.status == 400


async def test_numeric_and_undecodable_path_ids(client):
    response = await client.get("/api/v1/invoices/123")
    assert response.status == 400
    assert await response.json() == {"message": "Record with value 123 not found"}
    response = await client.get("/api/v1/invoices/notAHash!")
    assert response.status == 400
    assert await response.json() == {"message": "No query results for model [App\\Models\\Invoice]."}
    response = await client.get(f"/api/v1/tax_rates/{CODEC.encode(999_999)}")
    assert await response.json() == {"message": "No query results for model [App\\Models\\TaxRate]."}
    response = await client.put("/api/v1/expense_categories/1e3", json={})
    assert await response.json() == {"message": "Record with value 1e3 not found"}


async def test_other_companies_records_are_found_then_refused(client):
    # keys are global in v5: the ones below the sandbox company's belong to other companies
    response = await client.get(f"/api/v1/clients/{CODEC.encode(100)}")
    assert response.status == 401
    assert await response.json() == {"message": "This action is unauthorized."}
    response = await client.put(f"/api/v1/invoices/{CODEC.encode(200)}", json={})
    assert response.status == 401
    # in request bodies the company-scoped `exists` rule just calls them invalid
    response = await client.post("/api/v1/invoices", json={"client_id": CODEC.encode(100)})
    assert (await response.json())["errors"] == {"client_id": ["The selected client id is invalid."]}
    response = await client.get(f"/api/v1/users/{CODEC.encode(10)}", headers={"X-API-PASSWORD": "password"})
    assert response.status == 400


async def test_show_finds_deleted_records(client, store):
    deleted = next(row for row in store.table("invoices") if row["is_deleted"])
    response = await client.get(f"/api/v1/invoices/{CODEC.encode(deleted['id'])}")
    assert response.status == 200
    data = (await response.json())["data"]
    assert data["is_deleted"] is True and data["archived_at"] > 0


async def test_pagination_defaults_to_20_with_absolute_links(client):
    response = await client.get("/api/v1/products?sort=product_key|asc")
    body = await response.json()
    pagination = body["meta"]["pagination"]
    assert len(body["data"]) == 20
    assert {k: pagination[k] for k in ("total", "count", "per_page", "current_page", "total_pages")} == {
        "total": 25, "count": 20, "per_page": 20, "current_page": 1, "total_pages": 2,
    }
    next_link = pagination["links"]["next"]
    assert "previous" not in pagination["links"]
    parts = urlsplit(next_link)
    assert parts.scheme == "http" and parts.netloc == f"{client.host}:{client.port}"
    assert parts.path == "/api/v1/products"
    assert parse_qs(parts.query) == {"sort": ["product_key|asc"], "page": ["2"]}

    second = await (await client.session.get(next_link)).json()  # an absolute URL, fetched as is
    assert second["meta"]["pagination"]["count"] == 5
    assert "next" not in second["meta"]["pagination"]["links"]
    assert parse_qs(urlsplit(second["meta"]["pagination"]["links"]["previous"]).query)["page"] == ["1"]
    keys = [p["product_key"] for p in body["data"] + second["data"]]
    assert keys == sorted(keys) and len(set(keys)) == 25


async def test_links_is_an_empty_object_when_single_page(client):
    raw = await (await client.get("/api/v1/tax_rates")).text()
    assert '"links": {}' in raw


async def test_bodies_are_encoded_like_php(client):
    """BaseController::response pretty-prints (4 spaces) and json_encode escapes "/" and non-ASCII."""
    raw = await (await client.get("/api/v1/clients?per_page=4&sort=name|desc")).read()
    assert raw.startswith(b'{\n    "data": [\n        {\n            "id": "')
    assert b'"next": "http:\\/\\/127.0.0.1:' in raw
    assert b'"address1": "Torstra\\u00dfe 140"' in raw
    message = await (await client.get("/api/v1/clients/123")).read()
    assert message == b'{"message":"Record with value 123 not found"}'  # response()->json(): compact


async def test_per_page_bounds(client):
    body = await (await client.get("/api/v1/products?per_page=-3")).json()
    assert body["meta"]["pagination"]["per_page"] == 3 and len(body["data"]) == 3
    body = await (await client.get("/api/v1/products?per_page=999999")).json()
    assert body["meta"]["pagination"]["per_page"] == 5000 and len(body["data"]) == 25
    body = await (await client.get("/api/v1/products?per_page=5&page=3")).json()
    assert body["meta"]["pagination"]["current_page"] == 3
    assert [CODEC.decode(p["id"]) for p in body["data"]] == [511, 512, 513, 514, 515]


async def test_unknown_include_is_400_on_list_but_ignored_on_show(client):
    response = await client.get("/api/v1/invoices?include=invoice_items")
    assert response.status == 400
    assert await response.json() == {"message": "Relation `invoice_items` is not a valid include."}
    response = await client.get("/api/v1/payments?include=invoice")
    assert await response.json() == {"message": "Relation `invoice` is not a valid include."}
    response = await client.get("/api/v1/vendors?include=vendor_contacts")
    assert response.status == 400
    # an Eloquent relation the transformer does not render is accepted
    response = await client.get("/api/v1/clients?include=invoices")
    assert response.status == 200
    assert "invoices" not in (await response.json())["data"][0]
    show = await client.get("/api/v1/invoices/VolejRejNm?include=invoice_items,client".replace(
        "VolejRejNm", CODEC.encode(201)))
    data = (await show.json())["data"]
    assert "invoice_items" not in data
    assert data["client"]["name"] == "Northwind Traders"


async def test_default_and_requested_includes(client):
    body = await (await client.get("/api/v1/invoices?per_page=1&include=client,payments")).json()
    invoice = body["data"][0]
    assert [inv["client_contact_id"] for inv in invoice["invitations"]]
    assert invoice["documents"] == []
    assert invoice["client"]["contacts"][0]["email"] == "maria.anders@northwind.example"
    assert [p["amount"] for p in invoice["payments"]] == [1420.0]
    payment = (await (await client.get("/api/v1/payments?per_page=1&include=invoices")).json())["data"][0]
    assert payment["paymentables"][0]["invoice_id"] == invoice["id"]
    assert "invoice_id" not in payment  # links live in paymentables only
    assert payment["invoices"][0]["number"] == invoice["number"]


async def test_line_items_have_no_id(client):
    invoice = (await (await client.get(f"/api/v1/invoices/{CODEC.encode(201)}")).json())["data"]
    assert invoice["line_items"] and all("id" not in line for line in invoice["line_items"])
    assert invoice["line_items"][0]["type_id"] == "1"


async def test_malformed_json_is_400(client):
    response = await client.post("/api/v1/clients", data=b'{"name": ', headers={"Content-Type": "application/json"})
    assert response.status == 400
    assert "message" in await response.json()


async def test_server_errors_are_json(aiohttp_client, app):
    def broken_listener(event, kind, record):
        raise RuntimeError("boom")

    app["store"].events.append(broken_listener)
    client = await aiohttp_client(app, headers=AUTH)
    response = await client.post("/api/v1/tax_rates", json={"name": "Eco", "rate": 2})
    assert response.status == 500
    assert await response.json() == {"message": "Server Error"}


async def test_ping_and_statics(client):
    assert await (await client.get("/api/v1/ping")).json() == {
        "company_name": "Brightside Studio LLC", "user_name": "Olivia Bennett",
    }
    statics = await (await client.get("/api/v1/statics")).json()
    assert {"currencies", "countries", "payment_types", "languages"} <= set(statics)
    assert {"id": "1", "code": "USD"}.items() <= statics["currencies"][0].items()


async def test_head_is_answered_on_get_routes(client):
    response = await client.head("/api/v1/clients")
    assert response.status == 200 and await response.read() == b""


async def test_index_and_include_static_query_options(client):
    renamed = await (await client.get("/api/v1/tax_rates?index=rates")).json()
    assert list(renamed) == ["meta", "rates"] and len(renamed["rates"]) == 3
    bare = await (await client.get("/api/v1/tax_rates?index=none")).json()
    assert isinstance(bare, list) and bare[0]["name"] == "Sales Tax"
    with_static = await (await client.get(f"/api/v1/clients/{CODEC.encode(101)}?include_static=true")).json()
    assert list(with_static) == ["data", "static"] and with_static["static"]["currencies"]
