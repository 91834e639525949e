"""Account routes (login, refresh) and the webhooks and emails endpoints."""

from __future__ import annotations

from ninja_bridge.ids.codec import HashidCodec
from ninja_bridge.sandbox import SANDBOX_TOKEN

CODEC = HashidCodec("")
H = CODEC.encode


async def data(response, status: int = 200):
    assert response.status == status, await response.text()
    return (await response.json())["data"]


# --- login, refresh ---------------------------------------------------------------------------


async def test_login_returns_company_users_with_the_token(anonymous):
    response = await anonymous.post("/api/v1/login", json={"email": "owner@example.com", "password": "password"})
    body = await response.json()
    [company_user] = body["data"]
    assert company_user["token"]["token"] == SANDBOX_TOKEN and company_user["token"]["name"]
    assert company_user["user"]["email"] == "owner@example.com"
    assert len(company_user["company"]["company_key"]) == 32
    assert company_user["company"]["settings"]["name"] == "Brightside Studio LLC"
    wrong = await anonymous.post("/api/v1/login", json={"email": "owner@example.com", "password": "nope"})
    assert wrong.status == 401
    assert await wrong.json() == {"message": "These credentials do not match our records"}
    missing = await anonymous.post("/api/v1/login", json={"email": "owner@example.com"})
    assert (await missing.json())["errors"] == {"password": ["The password field is required."]}


async def test_refresh_needs_the_token(client, anonymous):
    assert (await anonymous.post("/api/v1/refresh")).status == 403
    body = await (await client.post("/api/v1/refresh")).json()
    assert body["data"][0]["token"]["token"] == SANDBOX_TOKEN


# --- webhooks and emails ---------------------------------------------------------------------


async def test_webhook_crud_and_validation(client, store):
    hook = await data(await client.post("/api/v1/webhooks", json={
        "target_url": "https://hooks.example/v5", "event_id": 2, "headers": {"X-Secret": "s"},
    }))
    assert hook["event_id"] == "2" and hook["rest_method"] == "post" and hook["format"] == "JSON"
    assert hook["headers"] == {"X-Secret": "s"} and hook["company_id"] == H(store.company["id"])
    updated = await data(await client.put(f"/api/v1/webhooks/{hook['id']}", json={"rest_method": "put"}))
    assert updated["rest_method"] == "put"
    response = await client.post("/api/v1/webhooks", json={"target_url": "https://x.example", "event_id": 999})
    assert response.status == 400 and await response.json() == "Invalid event"
    response = await client.post("/api/v1/webhooks", json={"target_url": "not a url", "event_id": 1,
                                                           "rest_method": "POST"})
    assert (await response.json())["errors"] == {
        "target_url": ["The target url field must be a valid URL."],
        "rest_method": ["The selected rest method is invalid."],
    }
    deleted = await data(await client.delete(f"/api/v1/webhooks/{hook['id']}"))
    assert deleted["is_deleted"] is True


async def test_emails_endpoint_sends_and_answers_the_entity(client, store):
    draft = next(row for row in store.table("invoices") if row["number"] == "0004")
    body = await data(await client.post("/api/v1/emails", json={
        "entity": "invoice", "entity_id": H(draft["id"]), "template": "email_template_invoice",
    }))
    assert body["number"] == "0004" and body["status_id"] == "2"
    assert all(invitation["sent_date"] for invitation in body["invitations"])
    response = await client.post("/api/v1/emails", json={"entity": "invoice", "entity_id": "nope"})
    assert (await response.json())["errors"] == {
        "template": ["The template field is required."], "entity_id": ["The selected entity id is invalid."],
    }


async def test_sent_events_for_webhook_delivery(client, store):
    seen = []
    store.events.append(lambda event, kind, record: seen.append((event, kind)))
    draft = next(row for row in store.table("invoices") if row["number"] == "0004")
    await client.get(f"/api/v1/invoices/{H(draft['id'])}/mark_sent")
    await client.get(f"/api/v1/invoices/{H(draft['id'])}/mark_paid")
    assert ("sent", "invoices") in seen and ("create", "payments") in seen


# -- payment terms and company settings (used by the proxy's payment_terms and PUT /accounts) -----

async def test_payment_terms_resource(client, store):
    listed = (await (await client.get("/api/v1/payment_terms")).json())["data"]
    assert sorted(t["num_days"] for t in listed) == [7, 14, 30]
    assert set(listed[0]) == {"id", "num_days", "name", "is_deleted", "created_at", "updated_at", "archived_at"}
    missing = await client.post("/api/v1/payment_terms", json={"name": "no days"})
    assert missing.status == 422 and "num_days" in (await missing.json())["errors"]
    created = (await (await client.post("/api/v1/payment_terms", json={"num_days": 60})).json())["data"]
    assert created["num_days"] == 60 and isinstance(created["id"], str)
    deleted = (await (await client.delete(f"/api/v1/payment_terms/{created['id']}")).json())["data"]
    assert deleted["is_deleted"] is True


async def test_put_company_merges_settings(client, store):
    company_id = store.encode(store.company["id"])
    response = await client.put(f"/api/v1/companies/{company_id}", json={"settings": {"name": "Renamed"}})
    body = (await response.json())["data"]
    assert body["settings"]["name"] == "Renamed" and body["settings"]["currency_id"] == "1"
    assert store.company["settings"]["name"] == "Renamed"
    other = await client.put(f"/api/v1/companies/{store.encode(store.company['id'] + 1)}", json={})
    assert other.status == 400


async def test_login_checks_the_api_secret_when_configured(aiohttp_client):
    from ninja_bridge.sandbox import create_app
    from ninja_bridge.sandbox.account import OWNER_EMAIL, OWNER_PASSWORD

    client = await aiohttp_client(create_app(api_secret="s3cret"), headers={"Accept": "application/json"})
    credentials = {"email": OWNER_EMAIL, "password": OWNER_PASSWORD}
    refused = await client.post("/api/v1/login", json=credentials)
    assert refused.status == 403 and (await refused.json())["message"] == "Invalid secret"
    wrong = await client.post("/api/v1/login", json=credentials, headers={"X-API-SECRET": "nope"})
    assert wrong.status == 403
    accepted = await client.post("/api/v1/login", json=credentials, headers={"X-API-SECRET": "s3cret"})
    assert accepted.status == 200 and (await accepted.json())["data"][0]["token"]["token"]
