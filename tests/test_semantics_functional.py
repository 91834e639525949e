"""v4 semantics legacy clients rely on: integer timestamps, archived_at/is_deleted, lists with
archived and deleted rows unless filter_active, PUT replacing contacts and line items."""

from __future__ import annotations

import pytest


async def data_of(response):
    assert response.status == 200, await response.text()
    return (await response.json())["data"]


@pytest.mark.parametrize("resource", ["projects", "expenses", "vendors", "credits", "expense_categories", "tasks"])
async def test_lists_show_deleted_rows_unless_filter_active(proxy, resource):
    rows = await data_of(await proxy.get(f"/api/v1/{resource}"))
    victim = rows[0]["id"]
    deleted = await data_of(await proxy.delete(f"/api/v1/{resource}/{victim}"))
    assert deleted["archived_at"] and isinstance(deleted["archived_at"], int)
    everything = await data_of(await proxy.get(f"/api/v1/{resource}?per_page=100"))
    active = await data_of(await proxy.get(f"/api/v1/{resource}?per_page=100&filter_active=1"))
    assert victim in [r["id"] for r in everything] and victim not in [r["id"] for r in active]
    for row in everything:
        assert isinstance(row["updated_at"], int)


async def test_task_archived_at_is_zero_not_null(proxy):
    tasks = await data_of(await proxy.get("/api/v1/tasks"))
    assert tasks and all(t["archived_at"] == 0 for t in tasks)
    projects = await data_of(await proxy.get("/api/v1/projects"))
    assert all(p["archived_at"] is None for p in projects)  # other transformers: null


async def test_put_replaces_vendor_contacts_and_recurring_items(proxy):
    recurring = (await data_of(await proxy.get("/api/v1/invoices?is_recurring=1")))[0]
    assert len(recurring["invoice_items"]) == 2
    updated = await data_of(await proxy.put(f"/api/v1/invoices/{recurring['id']}", json={
        "invoice_items": [{"product_key": "ONE", "cost": 1, "qty": 1}]}))
    assert [i["product_key"] for i in updated["invoice_items"]] == ["ONE"]
    vendor = (await data_of(await proxy.get("/api/v1/vendors")))[0]
    before = [c["id"] for c in vendor["vendor_contacts"]]
    after = await data_of(await proxy.put(f"/api/v1/vendors/{vendor['id']}", json={
        "name": vendor["name"], "vendor_contacts": [{"first_name": "Only", "email": "only@example.com"}]}))
    assert [c["first_name"] for c in after["vendor_contacts"]] == ["Only"]
    assert not set(before) & {c["id"] for c in after["vendor_contacts"]}
