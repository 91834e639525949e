"""Part 2: documents, uploads, PDFs, login/refresh, quotes/credits/recurring, tasks, projects, expenses,
vendors, webhooks and emails."""

from __future__ import annotations

import re

import aiohttp

from ninja_bridge.ids.codec import HashidCodec
from ninja_bridge.sandbox import SANDBOX_TOKEN

CODEC = HashidCodec("")
H = CODEC.encode


async def data(response, status: int = 200):
    assert response.status == status, await response.text()
    return (await response.json())["data"]


def upload_form(*files: tuple[str, str, bytes], method: str | None = "PUT") -> aiohttp.FormData:
    form = aiohttp.FormData()
    if method:
        form.add_field("_method", method)
    for field, filename, content in files:
        form.add_field(field, content, filename=filename, content_type="application/octet-stream")
    return form


# --- documents and uploads ------------------------------------------------------------------


async def test_seeded_expense_document(client, store):
    expense = (await data(await client.get("/api/v1/expenses?per_page=1")))[0]
    [document] = expense["documents"]
    assert document["name"] == "pixelprint-receipt.pdf" and document["type"] == "pdf"
    listed = await data(await client.get("/api/v1/documents"))
    assert [d["id"] for d in listed] == [document["id"]]
    assert "documentable_type" not in document and "documentable_id" not in document
    response = await client.get(f"/api/v1/documents/{document['id']}/download")
    body = await response.read()
    assert response.status == 200 and body.startswith(b"%PDF-1.4") and len(body) == document["size"]
    assert response.headers["Content-Disposition"] == "attachment; filename=pixelprint-receipt.pdf"


async def test_upload_to_invoice_answers_the_invoice_with_documents(client, store):
    invoice_id = H(201)
    response = await client.post(f"/api/v1/invoices/{invoice_id}/upload", data=upload_form(
        ("documents[]", "brief.txt", b"hello world"), ("documents[]", "logo.png", b"\x89PNG fake"),
    ))
    invoice = await data(response)
    assert invoice["id"] == invoice_id and invoice["entity_type"] == "invoice"
    names = [(d["name"], d["size"], d["type"]) for d in invoice["documents"]]
    assert names == [("brief.txt", 11, "txt"), ("logo.png", 9, "png")]
    brief = invoice["documents"][0]
    downloaded = await client.get(f"/api/v1/documents/{brief['id']}/download")
    assert await downloaded.read() == b"hello world"
    shown = await data(await client.get(f"/api/v1/documents/{brief['id']}"))
    assert shown["hash"] == brief["hash"]


async def test_upload_field_variants_and_real_put(client):
    expense_id = (await data(await client.get("/api/v1/expenses")))[1]["id"]
    for field in ("documents", "file", "file[]"):
        await client.post(f"/api/v1/expenses/{expense_id}/upload",
                          data=upload_form((field, f"{field.strip('[]')}.csv", b"a,b\n")))
    expense = await data(await client.put(f"/api/v1/expenses/{expense_id}/upload",
                                          data=upload_form(("documents", "put.pdf", b"%PDF"), method=None)))
    assert [d["name"] for d in expense["documents"]] == ["documents.csv", "file.csv", "file.csv", "put.pdf"]


async def test_upload_needs_method_spoofing_and_allowed_types(client):
    response = await client.post(f"/api/v1/clients/{H(101)}/upload",
                                 data=upload_form(("documents[]", "a.txt", b"x"), method=None))
    assert response.status == 404
    assert await response.json() == {"message": "Method not supported for this route"}
    response = await client.post(f"/api/v1/clients/{H(101)}/upload",
                                 data=upload_form(("documents[]", "a.txt", b"x"), ("documents[]", "run.exe", b"MZ")))
    assert response.status == 422
    errors = (await response.json())["errors"]
    assert list(errors) == ["documents.1"]
    assert errors["documents.1"][0].startswith("The documents.1 field must be a file of type: png, ai, jpeg")


async def test_delete_document(client, store):
    document = next(iter(store.table("documents")))
    response = await client.delete(f"/api/v1/documents/{H(document['id'])}")
    assert await response.json() == {"message": "Success"}
    assert len(store.table("documents")) == 0
    assert (await client.get(f"/api/v1/documents/{H(document['id'])}")).status == 400


async def test_documents_post_is_an_empty_answer(client):
    response = await client.post("/api/v1/documents", json={"name": "x"})
    assert response.status == 200 and await response.read() == b""


# --- pdf ------------------------------------------------------------------------------------


async def test_invoice_pdf_download(client):
    response = await client.get(f"/api/v1/invoices/{H(201)}/download")
    body = await response.read()
    assert response.status == 200
    assert response.headers["Content-Type"] == "application/pdf"
    assert response.headers["Content-Disposition"] == "attachment; filename=Invoice_0001.pdf"
    assert body.startswith(b"%PDF-1.4") and body.rstrip().endswith(b"%%EOF")
    assert b"Invoice 0001" in body
    xref_at = int(re.search(rb"startxref\n(\d+)", body).group(1))
    assert body[xref_at:xref_at + 4] == b"xref"


async def test_pdf_padding_streams_large_bodies(client):
    response = await client.get(f"/api/v1/quotes/{H(201)}/download?pdf_size=300000")
    assert response.headers["Content-Disposition"] == "attachment; filename=Quote_0001.pdf"
    chunks = [chunk async for chunk in response.content.iter_chunked(65536)]
    body = b"".join(chunks)
    assert len(body) == 300000 and len(chunks) > 1
    assert body.startswith(b"%PDF-1.4") and body.endswith(b"%%EOF\n")
    bulk = await client.post("/api/v1/credits/bulk", json={"action": "download", "ids": [H(201)]})
    assert bulk.headers["Content-Type"] == "application/pdf"


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


# --- quotes, credits, recurring invoices ----------------------------------------------------


async def test_quote_approve_and_convert(client, store):
    quotes = await data(await client.get("/api/v1/quotes"))
    assert [q["status_id"] for q in quotes] == ["2", "1"] and quotes[0]["entity_type"] == "quote"
    approved = await data(await client.get(f"/api/v1/quotes/{quotes[1]['id']}/approve"))
    assert approved["status_id"] == "3"
    invoice = await data(await client.get(f"/api/v1/quotes/{quotes[0]['id']}/convert"))
    assert invoice["entity_type"] == "invoice" and invoice["amount"] == quotes[0]["amount"]
    assert invoice["client_id"] == quotes[0]["client_id"] and invoice["status_id"] == "1"
    converted = await data(await client.get(f"/api/v1/quotes/{quotes[0]['id']}"))
    assert converted["status_id"] == "4" and converted["invoice_id"] == invoice["id"]
    again = await client.get(f"/api/v1/quotes/{quotes[0]['id']}/approve")
    assert await again.json() == {"message": "Unable to approve this quote as it has expired."}
    email = await client.get(f"/api/v1/quotes/{quotes[1]['id']}/email")
    assert await email.json() == {"message": "Successfully sent message"}


async def test_quote_and_invoice_with_same_key_are_different_records(client):
    invoice = await data(await client.get(f"/api/v1/invoices/{H(201)}"))
    quote = await data(await client.get(f"/api/v1/quotes/{H(201)}"))
    assert invoice["id"] == quote["id"] and invoice["number"] == quote["number"] == "0001"
    assert invoice["client_id"] != quote["client_id"]


async def test_credit_and_recurring_invoice(client, store):
    [credit] = await data(await client.get("/api/v1/credits"))
    assert credit["entity_type"] == "credit" and credit["balance"] == 300.0 and credit["status_id"] == "2"
    blue_harbor = store.table("clients").get(CODEC.decode(credit["client_id"]))
    assert blue_harbor["credit_balance"] == 300.0
    [recurring] = await data(await client.get("/api/v1/recurring_invoices"))
    assert recurring["entity_type"] == "recurringInvoice" and recurring["frequency_id"] == "5"
    assert recurring["status_id"] == "2" and recurring["remaining_cycles"] == -1
    body = await (await client.post("/api/v1/recurring_invoices/bulk",
                                    json={"action": "stop", "ids": [recurring["id"]]})).json()
    assert body["data"][0]["status_id"] == "3"
    response = await client.get(f"/api/v1/recurring_invoices/{recurring['id']}/start")
    assert response.status == 404  # v5 routes no per-entity actions for recurring invoices
    response = await client.post("/api/v1/recurring_invoices/bulk", json={"action": "email", "ids": []})
    assert response.status == 422


# --- tasks, projects, expenses, vendors ------------------------------------------------------


async def test_tasks_projects_and_statuses(client):
    tasks = await data(await client.get("/api/v1/tasks?include=status,client"))
    assert [t["duration"] for t in tasks] == [18000, 7200]
    assert tasks[0]["project"]["name"] == "Online shop launch"  # project is a default include
    assert tasks[0]["status"]["name"] == "Done" and CODEC.decode(tasks[0]["status_id"]) is not None
    assert tasks[0]["client"]["name"] == "Summit Outdoor Gear"
    assert isinstance(tasks[0]["time_log"], str) and tasks[0]["is_running"] is False
    [project] = await data(await client.get("/api/v1/projects?include=tasks"))
    assert project["current_hours"] == 7 and len(project["tasks"]) == 2
    statuses = await data(await client.get("/api/v1/task_statuses"))
    assert [s["name"] for s in statuses] == ["Backlog", "Ready to do", "In progress", "Done"]
    response = await client.post("/api/v1/projects", json={"name": "No client"})
    assert (await response.json())["errors"] == {"client_id": ["The client id field is required."]}
    task = await data(await client.post("/api/v1/tasks", json={
        "description": "Kickoff", "project_id": project["id"], "time_log": "[[1725000000,0]]",
    }))
    assert task["is_running"] is True and task["project_id"] == project["id"]


async def test_expenses_and_categories(client):
    expenses = await data(await client.get("/api/v1/expenses?include=vendor,category"))
    assert expenses[0]["vendor"]["name"] == "PixelPrint Co."
    assert expenses[0]["category"]["name"] == "Printing"
    assert expenses[0]["expense_currency_id"] == "" and expenses[0]["currency_id"] == "1"
    response = await client.post("/api/v1/expenses", json={"amount": 10, "category_id": "bogus"})
    assert (await response.json())["errors"] == {"category_id": ["The selected category id is invalid."]}
    response = await client.post("/api/v1/expense_categories", json={"name": "Printing"})
    assert (await response.json())["errors"] == {"name": ["The name has already been taken."]}


async def test_vendors_with_contacts(client):
    vendors = await data(await client.get("/api/v1/vendors"))
    assert [len(v["contacts"]) for v in vendors] == [1, 2]
    created = await data(await client.post("/api/v1/vendors", json={
        "name": "Inkwell", "contacts": [{"first_name": "Ivy", "email": "ivy@inkwell.example"}],
    }))
    assert created["contacts"][0]["is_primary"] is True and created["display_name"] == "Inkwell"


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


async def test_pdf_size_default_is_a_store_setting(client, store):
    store.pdf_size = 200000
    response = await client.get(f"/api/v1/invoices/{H(202)}/download")
    body = await response.read()
    assert len(body) == 200000 and body.endswith(b"%%EOF\n")
    overridden = await client.get(f"/api/v1/invoices/{H(202)}/download?pdf_size=100000")
    assert len(await overridden.read()) == 100000
