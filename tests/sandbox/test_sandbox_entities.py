"""Quotes, credits, recurring invoices, tasks, projects, expenses and vendors."""

from __future__ import annotations

from ninja_bridge.ids.codec import HashidCodec

CODEC = HashidCodec("")
H = CODEC.encode


async def data(response, status: int = 200):
    assert response.status == status, await response.text()
    return (await response.json())["data"]


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
    twice = await client.get(f"/api/v1/quotes/{quotes[0]['id']}/convert")
    assert twice.status == 400
    assert await twice.json() == {"message": "This quote has already been converted. Cannot convert again."}
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
    assert task["rate"] == 120.0  # the project's task rate
    assert task["status_id"] == statuses[0]["id"]  # the first task status
    loose = await data(await client.post("/api/v1/tasks", json={"description": "Call"}))
    assert loose["rate"] == 95.0  # the company's default task rate


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


async def test_invoice_line_items_link_tasks_and_expenses(client, store):
    task, other_task = store.table("tasks")
    expense = next(iter(store.table("expenses")))
    invoice = await data(await client.post("/api/v1/invoices", json={
        "client_id": H(task["client_id"]),
        "line_items": [{"product_key": "DEV-HOUR", "quantity": 5, "cost": 120, "task_id": H(task["id"]), "type_id": "2"},
                       {"product_key": "PRINT", "quantity": 1, "cost": 132.5, "expense_id": H(expense["id"])},
                       {"product_key": "DEV-HOUR", "quantity": 2, "cost": 120, "task_id": other_task["id"]}],
    }))
    assert invoice["line_items"][0]["task_id"] == H(task["id"])
    assert invoice["line_items"][2]["task_id"] == str(other_task["id"])  # kept as sent, cast to a string
    shown_task = await data(await client.get(f"/api/v1/tasks/{H(task['id'])}"))
    assert shown_task["invoice_id"] == invoice["id"]
    assert other_task["invoice_id"] is None  # an integer task id is not a hash: nothing linked
    assert (await data(await client.get(f"/api/v1/expenses/{H(expense['id'])}")))["invoice_id"] == invoice["id"]
    await client.put(f"/api/v1/invoices/{invoice['id']}", json={"line_items": []})
    assert task["invoice_id"] is None and expense["invoice_id"] == CODEC.decode(invoice["id"])


async def test_recurring_invoice_needs_a_frequency(client, store):
    client_id = store.encode(store.table("clients").where()[0]["id"])
    missing = await client.post("/api/v1/recurring_invoices", json={"client_id": client_id})
    assert missing.status == 422 and "frequency_id" in (await missing.json())["errors"]
    bad = await client.post("/api/v1/recurring_invoices", json={"client_id": client_id, "frequency_id": "13"})
    assert bad.status == 422
    good = await client.post("/api/v1/recurring_invoices", json={"client_id": client_id, "frequency_id": "5"})
    assert good.status == 200
