"""End to end (v4 client -> proxy -> sandbox) for the resources beyond part 1 and the special routes."""

from __future__ import annotations

import json

import pytest

from ninja_bridge.sandbox.account import OWNER_EMAIL, OWNER_PASSWORD, SANDBOX_TOKEN

route = pytest.mark.v4_route
QUOTE_OFFSET = 2**30
RECURRING_OFFSET = 2**30 + 2**29


async def data_of(response, status=200):
    assert response.status == status, await response.text()
    body = await response.json()
    return body["data"]


# -- quotes and recurring invoices through the shared invoice id space ----------------------------

@route("GET /api/v1/quotes")
async def test_quotes_list_in_the_v4_shape(proxy):
    quotes = await data_of(await proxy.get("/api/v1/quotes"))
    assert len(quotes) == 2
    for quote in quotes:
        assert quote["id"] > QUOTE_OFFSET and quote["invoice_type_id"] == 2 and quote["is_quote"] is True
        assert quote["invoice_items"] and "line_items" not in quote


@route("GET /api/v1/invoices/{id}")
@route("PUT /api/v1/invoices/{id}")
@route("DELETE /api/v1/invoices/{id}")
async def test_a_quote_is_read_written_and_deleted_through_invoices(proxy):
    quote = (await data_of(await proxy.get("/api/v1/quotes")))[0]
    shown = await data_of(await proxy.get(f"/api/v1/invoices/{quote['id']}"))
    assert shown["id"] == quote["id"] and shown["is_quote"] is True
    updated = await data_of(await proxy.put(f"/api/v1/invoices/{quote['id']}",
                                            json={"public_notes": "Revised", "invoice_items": [
                                                {"product_key": "X", "cost": 10, "qty": 2}]}))
    assert updated["id"] == quote["id"] and updated["public_notes"] == "Revised"
    assert [item["qty"] for item in updated["invoice_items"]] == [2]  # PUT replaced the items
    assert updated["amount"] == round(20 * (1 + updated["tax_rate1"] / 100), 2)
    deleted = await data_of(await proxy.delete(f"/api/v1/invoices/{quote['id']}"))
    assert deleted["id"] == quote["id"] and deleted["is_deleted"] is True


@route("POST /api/v1/invoices")
@route("GET /api/v1/invoices")
async def test_invoices_create_quotes_and_recurring_invoices_by_flag(proxy):
    clients = await data_of(await proxy.get("/api/v1/clients"))
    client_id = clients[0]["id"]
    quote = await data_of(await proxy.post("/api/v1/invoices", json={
        "client_id": client_id, "is_quote": True, "invoice_items": [{"cost": 5, "qty": 1}]}))
    assert quote["id"] > QUOTE_OFFSET and quote["is_quote"] is True and quote["invoice_type_id"] == 2
    recurring = await data_of(await proxy.post("/api/v1/invoices", json={
        "client_id": client_id, "is_recurring": True, "frequency_id": 2, "start_date": "2030-01-01",
        "invoice_items": [{"cost": 7, "qty": 1}]}))
    assert recurring["id"] > RECURRING_OFFSET and recurring["is_recurring"] is True
    assert recurring["frequency_id"] == 2 and recurring["start_date"] == "2030-01-01"
    invoice = await data_of(await proxy.post("/api/v1/invoices", json={
        "client_id": client_id, "invoice_items": [{"cost": 9, "qty": 1}]}))
    assert 0 < invoice["id"] < QUOTE_OFFSET and invoice["is_quote"] is False

    quotes = await data_of(await proxy.get("/api/v1/invoices?invoice_type_id=2&per_page=50"))
    assert quote["id"] in [q["id"] for q in quotes] and all(q["is_quote"] for q in quotes)
    recurrings = await data_of(await proxy.get("/api/v1/invoices?is_recurring=1"))
    assert recurring["id"] in [r["id"] for r in recurrings] and all(r["is_recurring"] for r in recurrings)
    plain = await data_of(await proxy.get("/api/v1/invoices?per_page=100"))
    ids = [i["id"] for i in plain]
    assert invoice["id"] in ids and quote["id"] not in ids  # unfiltered: standard invoices (docs/coverage.md)
    # the same record has the same v4 id whichever route shows it
    again = await data_of(await proxy.get(f"/api/v1/invoices/{recurring['id']}"))
    assert again["id"] == recurring["id"] and again["is_recurring"] is True


# -- credits, projects, expenses, categories, vendors, users, payment terms -----------------------

@route("POST /api/v1/credits")
@route("GET /api/v1/credits")
@route("GET /api/v1/credits/{id}")
@route("PUT /api/v1/credits/{id}")
@route("DELETE /api/v1/credits/{id}")
async def test_credits_are_balances_in_v4_and_documents_in_v5(proxy, sandbox_store):
    client_id = (await data_of(await proxy.get("/api/v1/clients")))[0]["id"]
    credit = await data_of(await proxy.post("/api/v1/credits", json={"client_id": client_id, "amount": 12.5}))
    assert credit["id"] > 0 and credit["amount"] == 12.5 and credit["client_id"] == client_id
    assert "credit_number" in credit and "credit_date" in credit
    stored = sandbox_store.table("credits").get(credit["id"])
    assert stored["line_items"][0]["cost"] == 12.5
    listed = await data_of(await proxy.get(f"/api/v1/credits?client_id={client_id}"))
    assert credit["id"] in [c["id"] for c in listed]
    assert (await data_of(await proxy.get(f"/api/v1/credits/{credit['id']}")))["amount"] == 12.5
    updated = await data_of(await proxy.put(f"/api/v1/credits/{credit['id']}", json={"amount": 20}))
    assert updated["amount"] == 20
    assert (await data_of(await proxy.delete(f"/api/v1/credits/{credit['id']}")))["is_deleted"] is True
    missing = await proxy.post("/api/v1/credits", json={"amount": 3})
    assert missing.status == 422 and "client_id" in (await missing.json())["errors"]


@route("POST /api/v1/projects")
@route("GET /api/v1/projects")
@route("GET /api/v1/projects/{id}")
@route("PUT /api/v1/projects/{id}")
@route("DELETE /api/v1/projects/{id}")
async def test_projects_crud(proxy):
    client_id = (await data_of(await proxy.get("/api/v1/clients")))[0]["id"]
    project = await data_of(await proxy.post("/api/v1/projects", json={
        "name": "Rebrand", "client_id": client_id, "budgeted_hours": 12, "task_rate": 80}))
    assert project["id"] > 0 and project["client_id"] == client_id and project["budgeted_hours"] == 12
    assert isinstance(project["updated_at"], int) and project["archived_at"] is None
    assert project["id"] in [p["id"] for p in await data_of(await proxy.get("/api/v1/projects"))]
    assert (await data_of(await proxy.get(f"/api/v1/projects/{project['id']}")))["name"] == "Rebrand"
    renamed = await data_of(await proxy.put(f"/api/v1/projects/{project['id']}", json={"name": "Rebrand 2"}))
    assert renamed["name"] == "Rebrand 2"
    deleted = await data_of(await proxy.delete(f"/api/v1/projects/{project['id']}"))
    assert deleted["is_deleted"] is True and isinstance(deleted["archived_at"], int)


@route("POST /api/v1/expense_categories")
@route("GET /api/v1/expense_categories")
@route("GET /api/v1/expense_categories/{id}")
@route("PUT /api/v1/expense_categories/{id}")
@route("DELETE /api/v1/expense_categories/{id}")
@route("POST /api/v1/expenses")
@route("GET /api/v1/expenses")
@route("GET /api/v1/expenses/{id}")
@route("PUT /api/v1/expenses/{id}")
@route("DELETE /api/v1/expenses/{id}")
async def test_expenses_and_categories(proxy):
    category = await data_of(await proxy.post("/api/v1/expense_categories", json={"name": "Travel"}))
    assert category["id"] > 0 and category["name"] == "Travel"
    assert (await data_of(await proxy.get(f"/api/v1/expense_categories/{category['id']}")))["name"] == "Travel"
    assert category["id"] in [c["id"] for c in await data_of(await proxy.get("/api/v1/expense_categories"))]
    vendor_id = (await data_of(await proxy.get("/api/v1/vendors")))[0]["id"]
    expense = await data_of(await proxy.post("/api/v1/expenses", json={
        "amount": 42, "expense_date": "2024-09-02", "expense_category_id": category["id"],
        "vendor_id": vendor_id, "payment_type_id": 3, "public_notes": "Train"}))
    assert expense["id"] > 0 and expense["expense_category_id"] == category["id"]
    assert expense["vendor_id"] == vendor_id and expense["expense_date"] == "2024-09-02"
    assert expense["payment_type_id"] == 3 and expense["client_id"] == 0
    listed = await data_of(await proxy.get("/api/v1/expenses?include=documents"))
    seeded = [e for e in listed if e["documents"]]
    assert seeded and seeded[0]["documents"][0]["name"] == "pixelprint-receipt.pdf"
    assert (await data_of(await proxy.get(f"/api/v1/expenses/{expense['id']}")))["amount"] == 42
    assert (await data_of(await proxy.put(f"/api/v1/expenses/{expense['id']}", json={"amount": 50})))["amount"] == 50
    assert (await data_of(await proxy.delete(f"/api/v1/expenses/{expense['id']}")))["is_deleted"] is True
    renamed = await data_of(await proxy.put(f"/api/v1/expense_categories/{category['id']}", json={"name": "Trips"}))
    assert renamed["name"] == "Trips"
    gone = await data_of(await proxy.delete(f"/api/v1/expense_categories/{category['id']}"))
    assert gone["id"] == category["id"] and gone["archived_at"]


@route("POST /api/v1/vendors")
@route("GET /api/v1/vendors")
@route("GET /api/v1/vendors/{id}")
@route("PUT /api/v1/vendors/{id}")
@route("DELETE /api/v1/vendors/{id}")
async def test_vendors_with_vendor_contacts(proxy):
    vendor = await data_of(await proxy.post("/api/v1/vendors", json={
        "name": "Acme Paper", "work_phone": "555", "vendor_contacts": [
            {"first_name": "Ann", "email": "ann@acme.example"}, {"first_name": "Bob", "email": "bob@acme.example"}]}))
    assert vendor["id"] > 0 and vendor["work_phone"] == "555"
    assert [c["first_name"] for c in vendor["vendor_contacts"]] == ["Ann", "Bob"]
    assert all(c["id"] > 0 for c in vendor["vendor_contacts"])
    shown = await data_of(await proxy.get(f"/api/v1/vendors/{vendor['id']}"))
    keep = shown["vendor_contacts"][0]
    updated = await data_of(await proxy.put(f"/api/v1/vendors/{vendor['id']}", json={
        "name": "Acme Paper", "vendor_contacts": [{"id": keep["id"], "first_name": "Anne"}]}))
    assert [(c["id"], c["first_name"]) for c in updated["vendor_contacts"]] == [(keep["id"], "Anne")]
    assert vendor["id"] in [v["id"] for v in await data_of(await proxy.get("/api/v1/vendors"))]
    assert (await data_of(await proxy.delete(f"/api/v1/vendors/{vendor['id']}")))["is_deleted"] is True


@route("GET /api/v1/users")
@route("GET /api/v1/users/{id}")
@route("POST /api/v1/users")
@route("PUT /api/v1/users/{id}")
@route("DELETE /api/v1/users/{id}")
async def test_users_read_and_clear_errors_for_v4s_broken_writes(proxy, sandbox_store):
    users = await data_of(await proxy.get("/api/v1/users"))
    owner = next(u for u in users if u["email"] == OWNER_EMAIL)
    assert owner["id"] == sandbox_store.owner_user_key and "deleted_at" in owner and "archived_at" not in owner
    assert (await data_of(await proxy.get(f"/api/v1/users/{owner['id']}")))["email"] == OWNER_EMAIL
    for method in ("post", "put", "delete"):
        path = "/api/v1/users" if method == "post" else f"/api/v1/users/{owner['id']}"
        response = await getattr(proxy, method)(path, json={"email": "x@example.com"})
        assert response.status == 501
        assert "password" in (await response.json())["error"]["message"]
    # the v4 user id is the number every user_id field shows
    client = await data_of(await proxy.post("/api/v1/clients", json={"name": "Owned"}))
    assert client["user_id"] == owner["id"]


@route("GET /api/v1/payment_terms")
@route("GET /api/v1/payment_terms/{id}")
@route("POST /api/v1/payment_terms")
@route("DELETE /api/v1/payment_terms/{num_days}")
async def test_payment_terms_have_no_id_and_are_deleted_by_days(proxy, sandbox_store):
    terms = await data_of(await proxy.get("/api/v1/payment_terms"))
    assert [t["num_days"] for t in terms] == [7, 14, 30] and all("id" not in t for t in terms)
    assert terms[0]["name"] == "Net 7"
    created = await data_of(await proxy.post("/api/v1/payment_terms", json={"num_days": 45}))
    assert created["num_days"] == 45 and created["name"] == "Net 45"
    key = next(r["id"] for r in sandbox_store.table("payment_terms").where(num_days=14))
    assert (await data_of(await proxy.get(f"/api/v1/payment_terms/{key}")))["num_days"] == 14
    deleted = await data_of(await proxy.delete("/api/v1/payment_terms/45"))
    assert deleted["num_days"] == 45
    missing = await proxy.delete("/api/v1/payment_terms/999")
    assert missing.status == 400
    assert (await missing.json()) == {"error": {"message": "Cannot delete a default or non existent Payment Term"}}


# -- tasks and their timers -----------------------------------------------------------------------

@route("POST /api/v1/tasks")
@route("GET /api/v1/tasks")
@route("GET /api/v1/tasks/{id}")
@route("PUT /api/v1/tasks/{id}")
@route("DELETE /api/v1/tasks/{id}")
async def test_tasks_v4_shape_and_timer_actions(proxy):
    client_id = (await data_of(await proxy.get("/api/v1/clients")))[0]["id"]
    task = await data_of(await proxy.post("/api/v1/tasks", json={
        "client_id": client_id, "description": "Call", "action": "start"}))
    assert task["id"] > 0 and task["is_running"] is True and task["archived_at"] == 0
    log = json.loads(task["time_log"])
    assert len(log) == 1 and log[0][1] is False
    stopped = await data_of(await proxy.post("/api/v1/tasks", json={"id": task["id"], "action": "stop"}))
    assert stopped["id"] == task["id"] and stopped["is_running"] is False
    assert isinstance(json.loads(stopped["time_log"])[0][1], int)
    resumed = await data_of(await proxy.post("/api/v1/tasks", json={"id": task["id"], "action": "resume"}))
    assert resumed["is_running"] is True and len(json.loads(resumed["time_log"])) == 2
    offline = await data_of(await proxy.post("/api/v1/tasks", json={
        "id": task["id"], "action": "offline", "time_log": "[[1700000000,1700003600]]"}))
    assert offline["time_log"] == "[[1700000000,1700003600]]" and offline["duration"] == 3600
    detailed = await data_of(await proxy.put(f"/api/v1/tasks/{task['id']}", json={"time_details": [
        {"start_datetime": "2024-01-01 10:00:00", "duration_minutes": 30}]}))
    assert json.loads(detailed["time_log"]) == [[1704103200, 1704105000]]
    assert task["id"] in [t["id"] for t in await data_of(await proxy.get("/api/v1/tasks"))]
    shown = await data_of(await proxy.get(f"/api/v1/tasks/{task['id']}?include=client"))
    assert shown["client"]["id"] == client_id
    assert (await data_of(await proxy.delete(f"/api/v1/tasks/{task['id']}")))["is_deleted"] is True


# -- documents ------------------------------------------------------------------------------------

@route("GET /api/v1/documents")
@route("GET /api/v1/documents/{id}")
@route("DELETE /api/v1/documents/{id}")
async def test_documents_list_stream_and_delete(proxy, sandbox_store):
    documents = await data_of(await proxy.get("/api/v1/documents"))
    document = next(d for d in documents if d["name"] == "pixelprint-receipt.pdf")
    assert document["id"] > 0 and "archived_at" not in document
    response = await proxy.get(f"/api/v1/documents/{document['id']}")
    assert response.status == 200 and response.headers["Content-Type"] == "application/pdf"
    content = await response.read()
    assert content == sandbox_store.table("documents").get(document["id"])["content"]
    deleted = await proxy.delete(f"/api/v1/documents/{document['id']}")
    assert deleted.status == 200
    assert (await proxy.get("/api/v1/documents/999999")).status == 404


# -- account, auth and utility routes -------------------------------------------------------------

@route("GET /api/v1/ping")
async def test_ping_answers_bare_success(proxy, anonymous_proxy):
    response = await proxy.get("/api/v1/ping")
    assert response.status == 200 and await response.text() == "success"
    assert response.headers["Content-Type"] == "application/json"  # as v4's getApiHeaders said
    assert await data_of(await proxy.get("/api/v1/ping?v2=1")) == OWNER_EMAIL
    refused = await anonymous_proxy.get("/api/v1/ping")
    assert refused.status == 403 and await refused.json() == {"error": {"message": "Invalid token"}}


@route("GET /api/v1/static")
async def test_static_in_v4_names(proxy):
    data = await data_of(await proxy.get("/api/v1/static"))
    for key in ("currencies", "sizes", "industries", "timezones", "dateFormats", "datetimeFormats", "languages",
                "paymentTypes", "countries", "invoiceDesigns", "invoiceStatus", "frequencies", "gateways"):
        assert key in data
    assert {"id": 1, "code": "USD"}.items() <= {k: data["currencies"][0][k] for k in ("id", "code")}.items()
    assert next(t for t in data["paymentTypes"] if t["name"] == "Bank Transfer")["id"] == 2  # v4 numbering
    assert data["frequencies"][3] == {"id": 4, "name": "Monthly"}


@route("POST /api/v1/login")
@route("POST /api/v1/refresh")
@route("GET /api/v1/user_accounts")
async def test_login_refresh_user_accounts(anonymous_proxy, proxy, sandbox_store):
    response = await anonymous_proxy.post("/api/v1/login", json={
        "email": OWNER_EMAIL, "password": OWNER_PASSWORD, "api_secret": "password", "token_name": "iOS Token"})
    accounts = await data_of(response)
    assert accounts[0]["token"] == SANDBOX_TOKEN
    assert accounts[0]["user_id"] == sandbox_store.owner_user_key
    assert accounts[0]["user"]["email"] == OWNER_EMAIL and accounts[0]["name"] == "Brightside Studio LLC"
    assert accounts[0]["account_key"] and accounts[0]["currency_id"] == 1
    bad = await anonymous_proxy.post("/api/v1/login", json={"email": OWNER_EMAIL, "password": "nope"})
    assert bad.status == 401 and await bad.json() == {"error": {"message": "Invalid credentials"}}
    refreshed = await data_of(await proxy.post("/api/v1/refresh"))
    assert refreshed[0]["token"] == SANDBOX_TOKEN
    listed = await data_of(await proxy.get("/api/v1/user_accounts?include=tax_rates"))
    assert [t["name"] for t in listed[0]["tax_rates"]]


@route("GET /api/v1/accounts")
@route("PUT /api/v1/accounts")
async def test_accounts_with_default_includes(proxy):
    account = await data_of(await proxy.get("/api/v1/accounts"))
    assert account["name"] == "Brightside Studio LLC" and account["currency_id"] == 1
    for include in ("users", "products", "tax_rates", "expense_categories", "projects"):
        assert isinstance(account[include], list) and account[include], include
    assert "reply_to_email" in account["account_email_settings"]
    assert account["products"][0]["id"] > 0 and "cost" in account["products"][0]
    renamed = await data_of(await proxy.put("/api/v1/accounts", json={"name": "Brightside Ltd"}))
    assert renamed["name"] == "Brightside Ltd"
    assert (await data_of(await proxy.get("/api/v1/accounts")))["name"] == "Brightside Ltd"
    assert (await proxy.put("/api/v1/accounts", json={})).status == 422


@route("GET /api/v1/dashboard")
async def test_dashboard_computed_from_v5_lists(proxy):
    data = await data_of(await proxy.get("/api/v1/dashboard"))
    assert data["id"] == 1 and data["paidToDate"] > 0 and data["invoicesSent"] > 0 and data["activeClients"] == 5
    assert data["paidToDateCurrency"] == 1 and isinstance(data["activities"], list)
    only = await data_of(await proxy.get("/api/v1/dashboard?only_activity=1"))
    assert set(only) == {"id", "activities"}


UNSUPPORTED = [
    ("POST", "/api/v1/oauth_login"), ("POST", "/api/v1/register"), ("POST", "/api/v1/upgrade"),
    ("POST", "/api/v1/ios_subscription_status"), ("POST", "/api/v1/add_token"), ("POST", "/api/v1/remove_token"),
    ("POST", "/api/v1/update_notifications"), ("PATCH", "/api/v1/users/{id}"),
    ("PUT", "/api/v1/documents/{id}"), ("PATCH", "/api/v1/documents/{id}"),
    ("PUT", "/api/v1/payment_terms/{id}"), ("PATCH", "/api/v1/payment_terms/{id}"),
]
RESOURCES = ("clients", "contacts", "invoices", "payments", "tasks", "credits", "products", "projects", "tax_rates",
             "users", "expenses", "documents", "vendors", "expense_categories", "payment_terms")
UNSUPPORTED += [("GET", f"/api/v1/{name}/create") for name in RESOURCES]
UNSUPPORTED += [("GET", f"/api/v1/{name}/{{id}}/edit") for name in RESOURCES]


@pytest.mark.parametrize("method,path", [pytest.param(m, p, marks=route(f"{m} {p}")) for m, p in UNSUPPORTED])
async def test_unsupported_routes_say_so_in_v4_shape(proxy, method, path):
    response = await proxy.request(method, path.replace("{id}", "1"), json={})
    assert response.status == 501
    message = (await response.json())["error"]["message"]
    assert "not supported" in message and path.split("/")[3] in message



# -- PATCH is PUT (Laravel's Route::resource), for every resource that updates ---------------------

PATCHABLE = {
    "clients": {"name": "Patched"}, "invoices": {"public_notes": "Patched"}, "payments": {"private_notes": "Patched"},
    "tasks": {"description": "Patched"}, "credits": {"public_notes": "Patched"}, "products": {"notes": "Patched"},
    "projects": {"name": "Patched"}, "tax_rates": {"name": "Patched"}, "expenses": {"public_notes": "Patched"},
    "expense_categories": {"name": "Patched"}, "vendors": {"name": "Patched"},
}


@pytest.mark.parametrize("resource", [pytest.param(name, marks=route(f"PATCH /api/v1/{name}/{{id}}"))
                                      for name in sorted(PATCHABLE)])
async def test_patch_updates_like_put(proxy, resource):
    record = (await data_of(await proxy.get(f"/api/v1/{resource}?filter_active=1")))[0]
    body = PATCHABLE[resource]
    patched = await data_of(await proxy.patch(f"/api/v1/{resource}/{record['id']}", json=body))
    field, value = next(iter(body.items()))
    assert patched["id"] == record["id"] and patched[field] == value



@route("GET /api/v1/products/{id}")
async def test_product_show(proxy, sandbox_store):
    product = (await data_of(await proxy.get("/api/v1/products")))[0]
    shown = await data_of(await proxy.get(f"/api/v1/products/{product['id']}"))
    assert shown == product
    assert shown["cost"] == sandbox_store.table("products").get(product["id"])["price"]


@route("GET /api/v1/invoices")
async def test_invoice_status_filter_is_at_least(proxy):
    everything = await data_of(await proxy.get("/api/v1/invoices?per_page=100"))
    statuses = {i["invoice_status_id"] for i in everything}
    assert len(statuses) > 1
    for wanted in sorted(statuses):
        rows = await data_of(await proxy.get(f"/api/v1/invoices?per_page=100&status_id={wanted}"))
        assert sorted(i["id"] for i in rows) == sorted(i["id"] for i in everything if i["invoice_status_id"] >= wanted)


# -- contacts: no v5 endpoint, served through their clients -----------------------------------------

@route("GET /api/v1/contacts")
@route("GET /api/v1/contacts/{id}")
@route("POST /api/v1/contacts")
@route("PUT /api/v1/contacts/{id}")
@route("PATCH /api/v1/contacts/{id}")
@route("DELETE /api/v1/contacts/{id}")
async def test_contacts_through_their_clients(proxy, sandbox_store):
    listed = await (await proxy.get("/api/v1/contacts")).json()
    seeded = sandbox_store.table("client_contacts").where()
    assert listed["meta"]["pagination"]["total"] == len(seeded) and len(listed["data"]) == min(15, len(seeded))
    assert all("client_id" not in c for c in listed["data"])  # v4's contact had none
    client = next(c for c in await data_of(await proxy.get("/api/v1/clients")) if c["name"] == "Greenleaf Bakery")
    mine = await data_of(await proxy.get(f"/api/v1/contacts?client_id={client['id']}"))
    assert sorted(c["id"] for c in mine) == sorted(c["id"] for c in client["contacts"])
    shown = await data_of(await proxy.get(f"/api/v1/contacts/{mine[0]['id']}"))
    assert shown == mine[0]

    incomplete = await proxy.post("/api/v1/contacts", json={"client_id": client["id"], "email": "x@example.com"})
    assert incomplete.status == 422 and "first_name" in (await incomplete.json())["errors"]
    created = await data_of(await proxy.post("/api/v1/contacts", json={
        "client_id": client["id"], "first_name": "Nina", "last_name": "Rossi", "email": "nina@example.com",
        "send_invoice": False}))
    assert created["id"] > 0 and created["first_name"] == "Nina" and created["send_invoice"] is False
    updated = await data_of(await proxy.put(f"/api/v1/contacts/{created['id']}", json={
        "first_name": "Nina", "last_name": "Bianchi", "email": "nina@example.com"}))
    assert updated["id"] == created["id"] and updated["last_name"] == "Bianchi"
    others = {c["id"] for c in client["contacts"]}
    after = await data_of(await proxy.get(f"/api/v1/clients/{client['id']}"))
    assert {c["id"] for c in after["contacts"]} == others | {created["id"]}  # the others were kept
    deleted = await data_of(await proxy.delete(f"/api/v1/contacts/{created['id']}"))
    assert deleted["id"] == created["id"]
    assert (await proxy.get(f"/api/v1/contacts/{created['id']}")).status == 404
    assert (await proxy.get("/api/v1/contacts/999999")).status == 404


@route("POST /api/v1/invoices")
async def test_invoice_create_options_become_v5_triggered_actions(proxy, sandbox_store):
    client_id = (await data_of(await proxy.get("/api/v1/clients")))[0]["id"]
    invoice = await data_of(await proxy.post("/api/v1/invoices", json={
        "client_id": client_id, "email_invoice": True, "paid": 4, "invoice_items": [{"cost": 10, "qty": 1}]}))
    assert invoice["balance"] == 6 and invoice["invoice_status_id"] in (3, 5)  # sent or viewed, then partial
    stored = sandbox_store.table("invoices").get(invoice["id"])
    invitations = sandbox_store.table("invitations").where(entity_type="invoices", entity_id=stored["id"])
    assert invitations and all(i.get("sent_date") for i in invitations)
    plain = await data_of(await proxy.post("/api/v1/invoices", json={
        "client_id": client_id, "email_invoice": False, "paid": 0, "invoice_items": [{"cost": 10, "qty": 1}]}))
    assert plain["balance"] == 10 and plain["invoice_status_id"] == 1


@route("POST /api/v1/invoices")
async def test_a_recurring_invoice_without_frequency_is_monthly_as_in_v4(proxy, sandbox_store):
    client_id = (await data_of(await proxy.get("/api/v1/clients")))[0]["id"]
    recurring = await data_of(await proxy.post("/api/v1/invoices", json={
        "client_id": client_id, "is_recurring": "1", "invoice_items": [{"cost": 3, "qty": 1}]}))
    assert recurring["frequency_id"] == 4 and recurring["is_recurring"] is True
    assert sandbox_store.table("recurring_invoices").get(recurring["id"] - RECURRING_OFFSET)["frequency_id"] == "5"


@route("POST /api/v1/login")
async def test_login_sends_the_v4_secret_as_x_api_secret(aiohttp_server, aiohttp_client):
    from ninja_bridge.app import create_app
    from ninja_bridge.config import load_settings
    from ninja_bridge.sandbox import create_app as create_sandbox

    upstream = await aiohttp_server(create_sandbox(api_secret="password"), host="127.0.0.1")
    proxy = await aiohttp_client(create_app(load_settings(upstream=str(upstream.make_url("")).rstrip("/"))))
    credentials = {"email": OWNER_EMAIL, "password": OWNER_PASSWORD}
    in_body = await data_of(await proxy.post("/api/v1/login", json={**credentials, "api_secret": "password"}))
    assert in_body[0]["token"] == SANDBOX_TOKEN
    in_header = await data_of(await proxy.post("/api/v1/login", json=credentials,
                                               headers={"X-Ninja-Secret": "password"}))
    assert in_header[0]["token"] == SANDBOX_TOKEN
    wrong = await proxy.post("/api/v1/login", json={**credentials, "api_secret": "guess"})
    assert wrong.status == 403 and await wrong.json() == {"error": {"message": "Invalid value for API_SECRET"}}


@pytest.mark.v4_route("POST /api/v1/invoices")
async def test_invoice_create_names_the_client_by_contact_email(proxy, sandbox_store):
    clients = (await (await proxy.get("/api/v1/clients?per_page=50")).json())["data"]
    known = next(c for c in clients if c["contacts"])
    email = known["contacts"][0]["email"]
    response = await proxy.post("/api/v1/invoices", json={
        "email": email, "invoice_items": [{"product_key": "BY-EMAIL", "cost": 3, "qty": 2}]})
    assert response.status == 200, await response.text()
    assert (await response.json())["data"]["client_id"] == known["id"]

    response = await proxy.post("/api/v1/invoices", json={
        "email": "new.buyer@shop.example", "name": "New Buyer Ltd", "first_name": "Nia", "city": "Leeds",
        "invoice_items": [{"product_key": "BY-EMAIL", "cost": 5, "qty": 1}]})
    assert response.status == 200, await response.text()
    invoice = (await response.json())["data"]
    client = (await (await proxy.get(f"/api/v1/clients/{invoice['client_id']}")).json())["data"]
    assert (client["name"], client["city"]) == ("New Buyer Ltd", "Leeds")
    assert [(c["email"], c["first_name"]) for c in client["contacts"]] == [("new.buyer@shop.example", "Nia")]
    assert invoice["client_id"] not in [c["id"] for c in clients]

    response = await proxy.post("/api/v1/invoices", json={"email": "not an address", "invoice_items": []})
    assert response.status == 422
    assert list((await response.json())["errors"]) == ["email"]
