"""The v4 server's own API test (v4-api.md §9, APICest::testAPI) through the proxy, whole: log in
with the API secret and a token name, then create and list the eight entity types, read the account
and the dashboard. Like APICest's curl, every request carries a JSON body (`null` on GETs) and the
token the login answered; unlike APICest, statuses and v4 field names are checked too."""

from __future__ import annotations

import orjson
import pytest

from ninja_bridge.sandbox.account import OWNER_EMAIL, OWNER_PASSWORD

JSON = {"Content-Type": "application/json"}


@pytest.mark.v4_route("POST /api/v1/login")
async def test_the_whole_v4_api_scenario(anonymous_proxy):
    token = None

    async def call(method, path, data=None):
        headers = {**JSON, **({"X-Ninja-Token": token} if token else {})}
        response = await anonymous_proxy.request(method, f"/api/v1/{path}", data=orjson.dumps(data), headers=headers)
        assert response.status == 200, await response.text()
        return await response.json()

    async def create(kind, data, v4_fields):
        body = await call("POST", kind + "s", data)
        record = body["data"]
        assert isinstance(record["id"], int) and not isinstance(record["id"], bool) and record["id"] > 0, body
        assert set(v4_fields) <= set(record), set(v4_fields) - set(record)
        return record["id"]

    async def listed(path):
        body = await call("GET", path)
        assert len(body["data"]) > 0, body
        assert "pagination" in body["meta"]
        return body["data"]

    login = await call("POST", "login", {"email": OWNER_EMAIL, "password": OWNER_PASSWORD,
                                         "api_secret": "password", "token_name": "iOS Token"})
    assert len(login["data"]) > 0
    token = login["data"][0]["token"]
    assert token

    client_id = await create("client", {"contact": {"email": "scenario@example.com"}},
                             ["contacts", "work_phone", "id_number", "updated_at", "archived_at"])
    await listed("clients")
    task_id = await create("task", {"client_id": client_id, "description": "Write the scenario down"},
                           ["time_log", "task_status_id", "is_running", "duration"])
    tasks = await listed("tasks")
    assert next(t for t in tasks if t["id"] == task_id)["client_id"] == client_id
    invoice_id = await create("invoice", {"client_id": client_id, "invoice_items": [{"qty": 4, "cost": 9}]},
                              ["invoice_items", "invoice_number", "invoice_status_id", "invoice_date"])
    await listed("invoices")
    payment_id = await create("payment", {"invoice_id": invoice_id, "amount": 1},
                              ["payment_date", "payment_type_id", "invoice_id", "invoice_number"])
    payments = await listed("payments")
    assert next(p for p in payments if p["id"] == payment_id)["invoice_id"] == invoice_id
    await create("tax_rate", {"name": "word", "rate": 4}, ["name", "rate", "is_inclusive"])
    await listed("tax_rates")
    await create("product", {"product_key": "word", "notes": "Some text"}, ["cost", "qty", "product_key"])
    await listed("products")
    await create("vendor", {"name": "word", "vendor_contacts": []}, ["vendor_contacts", "work_phone"])
    await listed("vendors")
    credit_id = await create("credit", {"client_id": client_id, "amount": 1},
                             ["credit_date", "credit_number", "balance", "client_id"])
    credits = await listed("credits")
    assert next(c for c in credits if c["id"] == credit_id)["amount"] == 1

    account = (await call("GET", "accounts"))["data"]
    assert isinstance(account, dict) and account["account_key"] and account["users"]
    dashboard = (await call("GET", "dashboard"))["data"]
    assert isinstance(dashboard, dict) and dashboard["invoicesSent"] >= 1 and dashboard["paidToDate"] >= 1
