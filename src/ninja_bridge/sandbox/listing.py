"""List endpoints: v5's query filters, sorting and Laravel/Fractal pagination."""

from __future__ import annotations

import datetime as dt
import math
import re
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


def mysql_number(raw: str) -> float:
    """How MySQL reads a string compared with a number: its numeric prefix, else 0."""
    match = re.match(r"\s*[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?", raw)
    return float(match.group(0)) if match else 0.0


def status_matches(record: Record, statuses: set[str]) -> bool:
    return (
        ("active" in statuses and not record.get("archived_at"))
        or ("archived" in statuses and bool(record.get("archived_at")) and not record.get("is_deleted"))
        or ("deleted" in statuses and bool(record.get("is_deleted")))
    )


RowFilter = Callable[[Record], bool]

# `?client_status=` words -> status ids, per entity (the *Filters::client_status methods).
CLIENT_STATUS_WORDS: dict[str, dict[str, set[str]]] = {
    "invoices": {"draft": {"1"}, "paid": {"4"}, "cancelled": {"5"}, "unpaid": {"2", "3"}},
    "quotes": {"draft": {"1"}, "sent": {"2"}, "approved": {"3"}, "converted": {"4"}},
    "credits": {"draft": {"1"}, "sent": {"2"}, "partial": {"3"}, "applied": {"4"}},
    "recurring_invoices": {"draft": {"1"}, "active": {"2"}, "paused": {"3"}, "completed": {"4"},
                           "pending": {"-1"}},
    "payments": {"pending": {"1"}, "cancelled": {"2"}, "failed": {"3"}, "completed": {"4"},
                 "partially_refunded": {"5"}, "refunded": {"6"}},
}
BALANCE_OPERATORS: dict[str, Callable[[float, float], bool]] = {
    "lt": lambda a, b: a < b, "lte": lambda a, b: a <= b, "gt": lambda a, b: a > b,
    "gte": lambda a, b: a >= b, "eq": lambda a, b: a == b,
}


def same_text(a: object, b: str) -> bool:
    """MySQL's default collation compares strings case-insensitively; so do the filters."""
    return str(a or "").casefold() == b.casefold()


def client_status_filter(entity: Entity, raw: str) -> RowFilter | None:
    words = {part.strip() for part in raw.split(",") if part.strip()}
    if not words or "all" in words or entity.name not in CLIENT_STATUS_WORDS:
        return None
    table = CLIENT_STATUS_WORDS[entity.name]
    statuses = set().union(*(table.get(word, set()) for word in words))
    today = dt.datetime.now(dt.timezone.utc).strftime("%Y-%m-%d")

    def past(date: object) -> bool:
        return bool(date) and str(date) < today

    def matches(record: Record) -> bool:
        status = record.get("status_id")
        if status in statuses:
            return True
        if entity.name == "invoices" and "overdue" in words:
            return status in ("2", "3") and (past(record.get("due_date")) or past(record.get("partial_due_date")))
        if entity.name == "quotes" and ("expired" in words or "upcoming" in words):
            expired = status == "2" and past(record.get("due_date"))
            return ("expired" in words and expired) or ("upcoming" in words and status == "2" and not expired)
        return False

    return matches


def balance_filter(raw: str) -> RowFilter | None:
    """`?balance=100:gt` (ClientFilters::balance)."""
    value, _, operator = raw.partition(":")
    compare = BALANCE_OPERATORS.get(operator.strip())
    if compare is None:
        return None
    threshold = php_float(value)
    return lambda record: compare(record.get("balance", 0.0), threshold)


def php_float(raw: str) -> float:
    try:
        return float(raw)
    except ValueError:
        return 0.0


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
    if query.get("is_deleted") and "is_deleted" in fields:
        # where('is_deleted', $value) binds the raw string and MySQL compares it as a number, so
        # `true` and `false` both mean 0 (not deleted); only `1` selects deleted rows.
        wanted = mysql_number(query["is_deleted"])
        add(lambda r: int(bool(r.get("is_deleted"))) == wanted)
    for name in ("client_id", "vendor_id"):
        if query.get(name):
            key = store.codec.decode(query[name])
            column = "id" if entity.name == ("clients" if name == "client_id" else "vendors") else name
            if column == "id" or column in fields:
                add(lambda r, column=column, key=key: r.get(column) == key)
    for name in ("number", "id_number", "product_key"):
        if query.get(name) and name in fields and (name == "number" or name in entity.filters):
            add(lambda r, name=name: same_text(r.get(name), query[name]))
    if "name" in entity.filters and query.get("name"):
        needle = query["name"].casefold()
        add(lambda r: needle in (r.get("name") or "").casefold())
    if "email" in entity.filters and query.get("email"):
        owners = {c["client_id"] for c in store.table("client_contacts") if same_text(c.get("email"), query["email"])}
        add(lambda r: r["id"] in owners)
    if "balance" in entity.filters and query.get("balance"):
        by_balance = balance_filter(query["balance"])
        if by_balance is not None:
            add(by_balance)
    if "client_status" in entity.filters and query.get("client_status"):
        by_client_status = client_status_filter(entity, query["client_status"])
        if by_client_status is not None:
            add(by_client_status)
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
