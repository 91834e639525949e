"""List endpoints: v5's query filters, sorting and Laravel/Fractal pagination."""

from __future__ import annotations

import datetime as dt
import math
from typing import Callable, Iterable
from urllib.parse import urlencode

from aiohttp import web
from multidict import MultiMapping

from ninja_bridge.sandbox.entities import Entity
from ninja_bridge.sandbox.store import Record, SandboxStore

DEFAULT_PER_PAGE = 20
MAX_PER_PAGE = 5000
LARAVEL_MODEL_PER_PAGE = 15  # what paginate(0) falls back to


def per_page(query: MultiMapping[str]) -> int:
    """BaseController::getPerPage: min(abs((int) per_page), 5000), default 20."""
    raw = query.get("per_page")
    if raw is None:
        return DEFAULT_PER_PAGE
    size = min(abs(php_int(raw)), MAX_PER_PAGE)
    return size or LARAVEL_MODEL_PER_PAGE


def php_int(raw: str) -> int:
    """PHP's (int) cast of a string: the leading integer, or 0."""
    digits = ""
    for index, char in enumerate(raw.strip()):
        if char.isdigit() or (index == 0 and char in "+-"):
            digits += char
        else:
            break
    try:
        return int(digits)
    except ValueError:
        return 0


def current_page(query: MultiMapping[str]) -> int:
    raw = query.get("page", "1")
    try:
        page = int(raw)
    except ValueError:
        return 1
    return page if page >= 1 else 1


def parse_time(raw: str) -> int | None:
    """Filters take a unix time or any parseable date."""
    try:
        return int(float(raw))
    except ValueError:
        pass
    for pattern in ("%Y-%m-%d %H:%M:%S", "%Y-%m-%d"):
        try:
            return int(dt.datetime.strptime(raw, pattern).replace(tzinfo=dt.timezone.utc).timestamp())
        except ValueError:
            continue
    return None


def truthy(raw: str) -> bool:
    return raw.lower() in ("1", "true", "yes", "on")


def status_matches(record: Record, statuses: set[str]) -> bool:
    return (
        ("active" in statuses and not record.get("archived_at"))
        or ("archived" in statuses and bool(record.get("archived_at")) and not record.get("is_deleted"))
        or ("deleted" in statuses and bool(record.get("is_deleted")))
    )


RowFilter = Callable[[Record], bool]


def build_filters(store: SandboxStore, entity: Entity, query: MultiMapping[str]) -> list[RowFilter]:
    """One predicate per recognised query parameter; unknown parameters are ignored, as in v5."""
    predicates: list[RowFilter] = []
    fields = entity.fields

    def add(predicate: RowFilter) -> None:
        predicates.append(predicate)

    status = query.get("status")
    if status:
        wanted = {part.strip() for part in status.split(",")}
        if wanted & {"active", "archived", "deleted"}:
            add(lambda r: status_matches(r, wanted))
    for name in ("updated_at", "created_at"):
        if query.get(name) and name in fields:
            since = parse_time(query[name])
            if since is not None:
                add(lambda r, name=name, since=since: r.get(name, 0) >= since)
    if "is_deleted" in query and "is_deleted" in fields:
        wanted_deleted = truthy(query["is_deleted"])
        add(lambda r: bool(r.get("is_deleted")) == wanted_deleted)
    for name in ("client_id", "vendor_id"):
        if query.get(name):
            key = store.codec.decode(query[name])
            column = "id" if entity.name == ("clients" if name == "client_id" else "vendors") else name
            if column == "id" or column in fields:
                add(lambda r, column=column, key=key: r.get(column) == key)
    if query.get("number") and "number" in fields:
        add(lambda r: r.get("number") == query["number"])
    if "name" in entity.filters and query.get("name"):
        needle = query["name"].lower()
        add(lambda r: needle in (r.get("name") or "").lower())
    if "id_number" in entity.filters and query.get("id_number"):
        add(lambda r: r.get("id_number") == query["id_number"])
    if "product_key" in entity.filters and query.get("product_key"):
        add(lambda r: r.get("product_key") == query["product_key"])
    if "email" in entity.filters and query.get("email"):
        emails = {c["client_id"] for c in store.table("client_contacts").where(email=query["email"])}
        add(lambda r: r["id"] in emails)
    if "status_id" in entity.filters and query.get("status_id"):
        wanted_ids = {part.strip() for part in query["status_id"].split(",")}
        add(lambda r: r.get("status_id") in wanted_ids)
    if "type" in entity.filters and query.get("type"):
        add(lambda r: r.get("type") == query["type"])
    if query.get("filter") and entity.search_fields:
        needle = query["filter"].lower()
        add(lambda r: any(needle in str(r.get(f) or "").lower() for f in entity.search_fields))
    return predicates


def sort_rows(rows: list[Record], entity: Entity, sort: str | None) -> list[Record]:
    """`?sort=column|asc|desc`; `number` sorts numerically like v5's InvoiceFilters."""
    if not sort:
        return rows
    column, _, direction = sort.partition("|")
    column = column.strip()
    if column not in entity.fields:
        return rows

    def sort_key(record: Record) -> tuple:
        value = record.get(column)
        if column == "number":
            digits = "".join(ch for ch in str(value or "") if ch.isdigit())
            return (0, int(digits) if digits else 0, str(value))
        if isinstance(value, (int, float)):
            return (0, value, "")
        return (1, 0, str(value or "").lower())

    return sorted(rows, key=sort_key, reverse=direction.strip().lower() == "desc")


def select(store: SandboxStore, entity: Entity, rows: Iterable[Record], query: MultiMapping[str]) -> list[Record]:
    predicates = build_filters(store, entity, query)
    selected = [row for row in rows if all(predicate(row) for predicate in predicates)]
    return sort_rows(selected, entity, query.get("sort"))


def page_url(request: web.Request, page: int) -> str:
    """Laravel's paginator url(): the request's own URL and query, with `page` set."""
    params: list[tuple[str, str]] = []
    seen_page = False
    for name, value in request.query.items():
        if name == "page":
            if not seen_page:
                params.append(("page", str(page)))
                seen_page = True
            continue
        params.append((name, value))
    if not seen_page:
        params.append(("page", str(page)))
    return f"{request.scheme}://{request.host}{request.path}?{urlencode(params)}"


def paginate(request: web.Request, rows: list[Record]) -> tuple[list[Record], dict]:
    """Slices one page and builds Fractal's meta.pagination (links as an object, `{}` when none)."""
    size = per_page(request.query)
    page = current_page(request.query)
    total = len(rows)
    last_page = max(1, math.ceil(total / size))
    page_rows = rows[(page - 1) * size: page * size]
    links: dict[str, str] = {}
    if page > 1:
        links["previous"] = page_url(request, page - 1)
    if page < last_page:
        links["next"] = page_url(request, page + 1)
    pagination = {
        "total": total,
        "count": len(page_rows),
        "per_page": size,
        "current_page": page,
        "total_pages": last_page,
        "links": links,
    }
    return page_rows, {"pagination": pagination}
