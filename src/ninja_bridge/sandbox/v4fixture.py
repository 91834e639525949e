"""The v4 side of a migrated sandbox account, and a tiny v4 API serving it.

The official migration (reference/migration-mapping.md §0) gave every record a new v5 key and kept
no trace of its v4 `public_id`. To test the id map end to end we need both sides: this module
derives, from a seeded sandbox store, what the account's v4 API showed before the migration
(per-account public ids, invoices/quotes/recurring invoices sharing one sequence, v5 `number`s as
v4 `invoice_number`/`id_number`, users as public_id + 1) and remembers the true pairing, which a
correct `ninja-bridge idmap build` must rediscover from natural keys alone.

`create_v4_app(fixture)` serves the v4 lists (`/api/v1/clients`, `/invoices` (mixed, like v4),
`/quotes`, `/payments`, `/credits`, `/products`, `/tax_rates`, `/users`, `/vendors`,
`/expense_categories`, `/projects`, `/expenses`, `/tasks`) in v4's envelope and pagination, behind `X-Ninja-Token`.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

import orjson
from aiohttp import web

from ninja_bridge.ids.idmap import IdPair
from ninja_bridge.sandbox.store import Record, SandboxStore

MIGRATED_KEY_SHIFT = 10_000  # v5 keys of a migrated account: far from the v4 public ids
V4_TOKEN = "v4legacy" + "0123456789abcdef" + "01234567"  # 32 chars, like a v4 account token
V4_INVOICE_TYPE = {"invoices": 1, "quotes": 2, "recurring_invoices": 1}


@dataclass
class V4Fixture:
    lists: dict[str, list[dict]] = field(default_factory=dict)  # v4 resource -> v4 objects
    truth: list[IdPair] = field(default_factory=list)  # what the migration silently did

    def v4_id(self, kind: str, v5_id: str) -> int:
        return next(p.v4_id for p in self.truth if p.kind == kind and p.v5_id == v5_id)


class _Numbering:
    """v4 public ids: one sequence per v4 table, from 1."""

    def __init__(self) -> None:
        self.next: dict[str, int] = {}

    def take(self, space: str) -> int:
        self.next[space] = self.next.get(space, 0) + 1
        return self.next[space]


def build_v4_fixture(store: SandboxStore) -> V4Fixture:
    fixture = V4Fixture()
    numbering = _Numbering()
    v4_ids: dict[tuple[str, int], int] = {}  # (v5 table, v5 key) -> v4 id

    def assign(table: str, kind: str, space: str, record: Record) -> int:
        v4_id = numbering.take(space)
        v4_ids[(table, record["id"])] = v4_id
        fixture.truth.append(IdPair(space, v4_id, kind, store.encode(record["id"])))
        return v4_id

    def fk(table: str, key: Any) -> int:
        return v4_ids.get((table, key), 0) if key else 0

    clients = []
    for client in store.table("clients"):
        client_id = assign("clients", "client", "client", client)
        contacts = []
        for contact in store.table("client_contacts").where(client_id=client["id"]):
            contacts.append({"id": assign("client_contacts", "contact", "contact", contact),
                             "first_name": contact.get("first_name", ""), "last_name": contact.get("last_name", ""),
                             "email": contact.get("email", ""), "contact_key": contact.get("contact_key", ""),
                             "is_primary": bool(contact.get("is_primary"))})
        clients.append({"id": client_id, "name": client.get("name", ""), "id_number": client.get("id_number") or "",
                        "work_phone": client.get("phone", ""), "is_deleted": bool(client.get("is_deleted")),
                        "contacts": contacts})
    fixture.lists["clients"] = clients

    invoices = []
    for table, kind in (("invoices", "invoice"), ("quotes", "quote"), ("recurring_invoices", "recurring_invoice")):
        for record in store.table(table):
            invoice_id = assign(table, kind, "invoice", record)
            invitations = []
            if table == "invoices":
                for invitation in store.table("invitations").where(entity_type="invoices", entity_id=record["id"]):
                    invitations.append({"id": assign("invitations", "invitation", "invitation", invitation),
                                        "key": invitation.get("key", "")})
            recurring = table == "recurring_invoices"
            invoices.append({
                "id": invoice_id, "client_id": fk("clients", record.get("client_id")),
                "invoice_number": "" if recurring else record.get("number", ""),
                "invoice_type_id": V4_INVOICE_TYPE[table], "is_recurring": recurring, "is_quote": table == "quotes",
                "frequency_id": int(record.get("frequency_id") or 5) - 1 if recurring else 0,
                "amount": record.get("amount", 0.0), "invoice_date": record.get("date", ""),
                "is_deleted": bool(record.get("is_deleted")), "invitations": invitations,
            })
    fixture.lists["invoices"] = invoices
    fixture.lists["quotes"] = [invoice for invoice in invoices if invoice["is_quote"]]

    payments = []
    for payment in store.table("payments"):
        links = store.table("paymentables").where(payment_id=payment["id"], paymentable_type="invoices")
        payments.append({"id": assign("payments", "payment", "payment", payment),
                         "invoice_id": fk("invoices", links[0]["paymentable_id"]) if links else 0,
                         "amount": payment.get("amount", 0.0), "payment_date": payment.get("date", ""),
                         "transaction_reference": payment.get("transaction_reference", "")})
    fixture.lists["payments"] = payments
    fixture.lists["credits"] = [
        {"id": assign("credits", "credit", "credit", credit), "client_id": fk("clients", credit.get("client_id")),
         "credit_number": credit.get("number", ""), "amount": credit.get("amount", 0.0)}
        for credit in store.table("credits")]
    fixture.lists["products"] = [
        {"id": assign("products", "product", "product", product), "product_key": product.get("product_key", ""),
         "notes": product.get("notes", ""), "cost": product.get("price", 0.0)}
        for product in store.table("products")]
    fixture.lists["tax_rates"] = [
        {"id": assign("tax_rates", "tax_rate", "tax_rate", rate), "name": rate.get("name", ""),
         "rate": rate.get("rate", 0.0)}
        for rate in store.table("tax_rates")]
    # v4 showed users as public_id + 1, and user public ids started at 0: so 1, 2, ... again.
    fixture.lists["users"] = [
        {"id": assign("users", "user", "user", user), "email": user.get("email", ""),
         "first_name": user.get("first_name", "")}
        for user in store.table("users")]
    fixture.lists["vendors"] = [
        {"id": assign("vendors", "vendor", "vendor", vendor), "name": vendor.get("name", ""),
         "id_number": vendor.get("id_number") or ""}
        for vendor in store.table("vendors")]
    fixture.lists["expense_categories"] = [
        {"id": assign("expense_categories", "expense_category", "expense_category", category),
         "name": category.get("name", "")}
        for category in store.table("expense_categories")]
    fixture.lists["projects"] = [
        {"id": assign("projects", "project", "project", project), "name": project.get("name", ""),
         "client_id": fk("clients", project.get("client_id"))}
        for project in store.table("projects")]
    fixture.lists["expenses"] = [
        {"id": assign("expenses", "expense", "expense", expense), "expense_date": expense.get("date", ""),
         "amount": expense.get("amount", 0.0), "vendor_id": fk("vendors", expense.get("vendor_id")),
         "client_id": fk("clients", expense.get("client_id")),
         "expense_category_id": fk("expense_categories", expense.get("category_id")),
         "public_notes": expense.get("public_notes", "")}
        for expense in store.table("expenses")]
    # v4 time logs had no description or billable flag per entry: [[start, end], ...].
    fixture.lists["tasks"] = [
        {"id": assign("tasks", "task", "task", task), "description": task.get("description", ""),
         "client_id": fk("clients", task.get("client_id")), "project_id": fk("projects", task.get("project_id")),
         "time_log": orjson.dumps([entry[:2] for entry in orjson.loads(task.get("time_log") or "[]")]).decode()}
        for task in store.table("tasks")]
    return fixture


def migrate_numbers(store: SandboxStore) -> None:
    """What the migration did to numbers: v4 `id_number` became v5 `number` (and `id_number` '')."""
    for table in ("clients", "vendors"):
        for record in store.table(table):
            if record.get("id_number"):
                record["number"], record["id_number"] = record["id_number"], ""


# -- the v4 API over the fixture ---------------------------------------------------------------------

def create_v4_app(fixture: V4Fixture, token: str = V4_TOKEN) -> web.Application:
    """A read-only v4 server: lists in `{"data": [...], "meta": {"pagination": ...}}`, 15 a page."""

    async def list_resource(request: web.Request) -> web.Response:
        if request.headers.get("X-Ninja-Token") != token:
            return _json({"error": {"message": "Invalid token"}}, 401)  # v4-api.md §2.1
        rows = fixture.lists.get(request.match_info["resource"])
        if rows is None:
            return _json({"error": {"message": "Route does not exist"}}, 404)
        per_page = max(1, int(request.query.get("per_page", "15") or 15))
        page = max(1, int(request.query.get("page", "1") or 1))
        chunk = rows[(page - 1) * per_page: page * per_page]
        total_pages = max(1, math.ceil(len(rows) / per_page))
        links = {"next": f"{request.path}?page={page + 1}"} if page < total_pages else []
        return _json({"data": chunk, "meta": {"pagination": {
            "total": len(rows), "count": len(chunk), "per_page": per_page, "current_page": page,
            "total_pages": total_pages, "links": links}}})

    app = web.Application()
    app.router.add_get("/api/v1/{resource}", list_resource)
    return app


def _json(body: Any, status: int = 200) -> web.Response:
    return web.Response(body=orjson.dumps(body), status=status, content_type="application/json")


def export_document(fixture: V4Fixture) -> dict:
    """The fixture as v4's Settings > Export > JSON wrote it (migration-mapping.md §6): clients with
    their contacts and invoices (all three types) nested, payments inside invoices; no vendors,
    credits or invitations (the export has none)."""
    invoices_of: dict[int, list[dict]] = {}
    for invoice in fixture.lists["invoices"]:
        payments = [p for p in fixture.lists["payments"] if p["invoice_id"] == invoice["id"]]
        rest = {k: v for k, v in invoice.items() if k != "invitations"}
        invoices_of.setdefault(invoice["client_id"], []).append({**rest, "payments": payments})
    clients = [{**client, "invoices": invoices_of.get(client["id"], [])} for client in fixture.lists["clients"]]
    return {"account_key": "v4fixtureaccountkey0000000000000", "clients": clients,
            **{name: fixture.lists[name] for name in ("users", "products", "tax_rates", "expense_categories",
                                                      "projects")}}
