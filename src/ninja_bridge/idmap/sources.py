"""Where `idmap build` reads records: a live v4 API, a v4 JSON export file, a live v5 API.

Each source ends as ``{kind: [record, ...]}`` in its own version's field names, with nested records
(contacts, invitations) lifted out next to their parents so the matcher sees one flat list per kind.
"""

from __future__ import annotations

from pathlib import Path
import aiohttp
import orjson

Records = dict[str, list[dict]]

V4_PAGE_SIZE = 500
V5_PAGE_SIZE = 1000
MAX_PAGES = 100_000  # a runaway paginator is a bug, not a big account

# v4 list endpoints read, in v4 names; `/invoices` mixes invoices, quotes and recurring invoices.
V4_RESOURCES = ("clients", "invoices", "payments", "credits", "products", "tax_rates", "users", "vendors",
                "expense_categories", "projects", "expenses", "tasks")
# v5 kind -> (list path, include)
V5_RESOURCES: dict[str, tuple[str, str]] = {
    "client": ("clients", "contacts"),
    "invoice": ("invoices", "invitations"),
    "quote": ("quotes", ""),
    "recurring_invoice": ("recurring_invoices", ""),
    "credit": ("credits", ""),
    "payment": ("payments", "paymentables"),
    "product": ("products", ""),
    "tax_rate": ("tax_rates", ""),
    "user": ("users", ""),
    "vendor": ("vendors", ""),
    "expense_category": ("expense_categories", ""),
    "project": ("projects", ""),
    "expense": ("expenses", ""),
    "task": ("tasks", ""),
}


class SourceError(Exception):
    """A source that cannot be read; the message names it and says why."""


async def _pages(session: aiohttp.ClientSession, url: str, headers: dict, params: dict, what: str) -> list[dict]:
    rows: list[dict] = []
    for page in range(1, MAX_PAGES):
        try:
            async with session.get(url, headers=headers, params={**params, "page": str(page)}) as response:
                raw = await response.read()
                if response.status != 200:
                    raise SourceError(f"{what}: GET {url} answered {response.status}: {raw[:200]!r}")
        except aiohttp.ClientError as exc:
            raise SourceError(f"{what}: GET {url} failed: {exc}") from exc
        try:
            body = orjson.loads(raw)
        except orjson.JSONDecodeError as exc:
            raise SourceError(f"{what}: GET {url} did not answer JSON") from exc
        data = body.get("data") if isinstance(body, dict) else None
        if not isinstance(data, list):
            raise SourceError(f"{what}: GET {url} answered no `data` list")
        rows.extend(row for row in data if isinstance(row, dict))
        pagination = (body.get("meta") or {}).get("pagination") or {}
        if not data or int(pagination.get("current_page") or page) >= int(pagination.get("total_pages") or 1):
            return rows
    raise SourceError(f"{what}: GET {url} never reached its last page")


def _session() -> aiohttp.ClientSession:
    return aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=300, sock_connect=10, sock_read=60))


async def fetch_v4_api(base_url: str, token: str) -> dict[str, list[dict]]:
    """Every v4 list the map needs, as the v4 API shows them (public ids)."""
    base = base_url.rstrip("/")
    headers = {"X-Ninja-Token": token, "X-Requested-With": "XMLHttpRequest", "Accept": "application/json"}
    lists: dict[str, list[dict]] = {}
    async with _session() as session:
        for resource in V4_RESOURCES:
            params = {"per_page": str(V4_PAGE_SIZE)}
            if resource == "invoices":
                params["include"] = "invitations"
            lists[resource] = await _pages(session, f"{base}/api/v1/{resource}", headers, params, "v4 server")
    return lists


def read_v4_export(path: Path) -> dict[str, list[dict]]:
    """v4's Settings > Export > JSON (migration-mapping.md §6): the account with clients, their contacts,
    invoices (all three types) and payments nested; users, products, tax rates, categories, projects."""
    try:
        document = orjson.loads(path.read_bytes())
    except (OSError, orjson.JSONDecodeError) as exc:
        raise SourceError(f"cannot read the v4 export {path}: {exc}") from exc
    if isinstance(document, dict) and isinstance(document.get("data"), dict):
        document = document["data"]
    if not isinstance(document, dict) or not isinstance(document.get("clients"), list):
        raise SourceError(f"{path} is not a v4 JSON export (no `clients` list at the top)")
    lists: dict[str, list[dict]] = {name: list(document.get(name) or []) for name in
                                    ("users", "products", "tax_rates", "expense_categories", "projects")}
    lists["clients"], lists["invoices"], lists["payments"] = [], [], []
    for client in document["clients"]:
        lists["clients"].append(client)
        for invoice in client.get("invoices") or []:
            lists["invoices"].append({**invoice, "client_id": invoice.get("client_id") or client.get("id")})
            for payment in invoice.get("payments") or []:
                lists["payments"].append({**payment, "invoice_id": payment.get("invoice_id") or invoice.get("id")})
    return lists


def v4_records(lists: dict[str, list[dict]]) -> Records:
    """v4 lists -> records per v5 kind (invoices split by type, contacts and invitations lifted out)."""
    records: Records = {kind: [] for kind in ("client", "contact", "invoice", "quote", "recurring_invoice",
                                               "invitation", "payment", "credit", "product", "tax_rate", "user",
                                               "vendor", "expense_category", "project", "expense", "task")}
    simple = {"payments": "payment", "credits": "credit", "products": "product", "tax_rates": "tax_rate",
              "users": "user", "vendors": "vendor", "expense_categories": "expense_category", "projects": "project",
              "expenses": "expense", "tasks": "task"}
    for resource, kind in simple.items():
        records[kind].extend(lists.get(resource) or [])
    for client in lists.get("clients") or []:
        records["client"].append(client)
        for contact in client.get("contacts") or []:
            records["contact"].append({**contact, "client_id": client.get("id")})
    for invoice in lists.get("invoices") or []:
        if invoice.get("is_recurring"):
            kind = "recurring_invoice"
        elif int(invoice.get("invoice_type_id") or 1) == 2 or invoice.get("is_quote"):
            kind = "quote"
        else:
            kind = "invoice"
        records[kind].append(invoice)
        if kind == "invoice":
            for invitation in invoice.get("invitations") or []:
                records["invitation"].append({**invitation, "invoice_id": invoice.get("id")})
    return records


async def fetch_v5_api(base_url: str, token: str) -> Records:
    """Every v5 record the map needs, archived and deleted ones too."""
    base = base_url.rstrip("/")
    headers = {"X-API-TOKEN": token, "X-Requested-With": "XMLHttpRequest", "Accept": "application/json"}
    records: Records = {}
    async with _session() as session:
        for kind, (path, include) in V5_RESOURCES.items():
            params = {"per_page": str(V5_PAGE_SIZE), "status": "active,archived,deleted"}
            if include:
                params["include"] = include
            records[kind] = await _pages(session, f"{base}/api/v1/{path}", headers, params, "v5 server")
    records["contact"] = [{**contact, "client_id": client.get("id")}
                          for client in records["client"] for contact in client.get("contacts") or []]
    records["invitation"] = [{**invitation, "invoice_id": invoice.get("id")}
                             for invoice in records["invoice"] for invitation in invoice.get("invitations") or []]
    return records

