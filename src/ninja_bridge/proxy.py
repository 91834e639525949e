"""The flow of one proxied v4 request: authenticate, translate the request, call v5, translate
the answer. Each step lives in its own module; this one only strings them together."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field
from typing import Any, Awaitable, Callable

import orjson
from aiohttp import web

from . import errors
from .ids.translator import IdError, IdTranslator, space_of
from .translate.plan import Context, EntityPlan, IncludeTree, PlanSet, TranslationError, parse_includes
from .translate.spec import Mappings, ResourceSpec
from .translate.structural import REWRITES
from .upstream import Upstream

FANOUT_PAGE_SIZE = 5000  # v5's largest page: one call brings all of a parent's children
FANOUT_CONCURRENCY = 8

TokenResolver = Callable[[str], Awaitable[str | None]]


def json_response(status: int, body: Any, headers: dict[str, str] | None = None) -> web.Response:
    return web.Response(status=status, body=orjson.dumps(body), content_type="application/json",
                        headers=headers)


@dataclass
class Exchange:
    """What one v4 request carries through the steps: its v5 token and the tools to use it."""

    request: web.Request
    token: str
    upstream: Upstream
    plans: PlanSet
    ids: IdTranslator
    v5_route: str = ""
    notes: dict[str, Any] = field(default_factory=dict)

    async def fetch_json(self, path: str, query: Any = None) -> Any:
        """A side call to v5 (a lookup a rewrite needs); None when v5 has no such record."""
        response = await self.upstream.request("GET", path, token=self.token, query=query)
        return response.body if response.ok else None

    async def call(self, method: str, path: str, query: Any = None, body: Any = None) -> Any:
        """The main v5 call of the request: a v5 error answer becomes the v4 error."""
        self.v5_route = f"{method} /api/v1/{path}"
        response = await self.upstream.request(method, path, token=self.token, query=query, json_body=body)
        if not response.ok:
            raise errors.from_v5(response.status, response.body, self.notes.get("error_field", lambda k: k))
        if not isinstance(response.body, dict):
            raise errors.upstream_bad_answer(f"expected a JSON object, got {type(response.body).__name__}")
        return response.body


class ResourceProxy:
    """The v4 operations of one resource (list, show, create, update, delete)."""

    def __init__(self, name: str, spec: ResourceSpec, plans: PlanSet, page_size: int, public_base: str | None):
        self.name = name
        self.spec = spec
        self.plan: EntityPlan = plans[spec.entity]
        self.kind = self.plan.spec.kind or spec.entity
        self.page_size = page_size
        self.public_base = public_base

    # -- request side -------------------------------------------------------------------------

    def record_path(self, exchange: Exchange, raw_id: str) -> str:
        if not raw_id.isdigit():
            raise errors.record_not_found()
        v4_id = int(raw_id)
        if v4_id == 0:
            raise errors.V4Error(404, {"error": "Record not found"})
        try:
            kind, v5_id = exchange.ids.locate(space_of(self.kind), v4_id)
        except IdError as exc:
            raise errors.record_not_found() from exc
        if kind != self.kind:
            raise errors.record_not_found()
        return f"{self.spec.v5_path}/{v5_id}"

    def error_field(self, v5_key: str) -> str:
        return self.spec.error_fields.get(v5_key) or self.plan.v4_error_key(v5_key)

    def includes(self, request: web.Request) -> IncludeTree:
        return parse_includes(request.query.get("include"))

    def include_query(self, tree: IncludeTree) -> list[tuple[str, str]]:
        names = list(dict.fromkeys(self.plan.upstream_includes(tree) + self.spec.v5_includes))
        return [("include", ",".join(names))] if names else []

    def list_query(self, exchange: Exchange, tree: IncludeTree) -> list[tuple[str, str]] | None:
        """v4 list parameters in v5 terms; None when a filter can match nothing."""
        v4 = exchange.request.query
        query = [("per_page", str(_positive_int(v4.get("per_page"), self.page_size))),
                 ("page", str(_positive_int(v4.get("page"), 1)))]
        for v4_name, v5_name in self.spec.filters.items():
            if v4_name in v4:
                query.append((v5_name, v4[v4_name]))
        for v4_name, kind in self.spec.id_filters.items():
            if v4_name in v4:
                value = v4[v4_name]
                try:
                    query.append((v4_name, exchange.ids.to_v5(kind, int(value))))
                except (ValueError, IdError):
                    return None
        if _truthy(v4.get("filter_active")):
            query.append(("status", "active"))
        if self.spec.sort:
            query.append(("sort", self.spec.sort))
        return query + self.include_query(tree)

    async def v5_body(self, exchange: Exchange, operation: str) -> dict:
        v4_body = await read_json_body(exchange.request)
        try:
            v5_body = self.plan.to_v5(v4_body)
        except TranslationError as exc:
            raise errors.validation_failed({exc.field: [f"The {exc.field} field is invalid: {exc.message}."]},
                                           kind="translation") from exc
        for name in self.spec.rewrites.get(operation, []):
            v5_body = await REWRITES[name](v4_body, v5_body, exchange)
        return v5_body

    # -- the operations -----------------------------------------------------------------------

    async def list(self, exchange: Exchange) -> web.Response:
        tree = self.includes(exchange.request)
        query = self.list_query(exchange, tree)
        if query is None:
            return json_response(200, self.empty_page(exchange))
        body = await exchange.call("GET", self.spec.v5_path, query=query)
        rows = body.get("data") if isinstance(body.get("data"), list) else []
        await self.fan_out(exchange, rows, tree)
        ctx = self.context(exchange)
        data = [self.plan.to_v4(row, tree, ctx) for row in rows]
        meta = {"pagination": self.pagination(exchange, body.get("meta", {}).get("pagination") or {})}
        return json_response(200, {"data": data, "meta": meta})

    async def show(self, exchange: Exchange) -> web.Response:
        tree = self.includes(exchange.request)
        path = self.record_path(exchange, exchange.request.match_info["id"])
        body = await exchange.call("GET", path, query=self.include_query(tree))
        return await self.item_answer(exchange, body, tree)

    async def create(self, exchange: Exchange) -> web.Response:
        tree = self.includes(exchange.request)
        v5_body = await self.v5_body(exchange, "create")
        body = await exchange.call("POST", self.spec.v5_path, query=self.include_query(tree), body=v5_body)
        return await self.item_answer(exchange, body, tree, created=True)

    async def update(self, exchange: Exchange) -> web.Response:
        tree = self.includes(exchange.request)
        path = self.record_path(exchange, exchange.request.match_info["id"])
        v5_body = await self.v5_body(exchange, "update")
        body = await exchange.call("PUT", path, query=self.include_query(tree), body=v5_body)
        return await self.item_answer(exchange, body, tree)

    async def delete(self, exchange: Exchange) -> web.Response:
        tree = self.includes(exchange.request)
        path = self.record_path(exchange, exchange.request.match_info["id"])
        body = await exchange.call("DELETE", path, query=self.include_query(tree))
        if not isinstance(body.get("data"), dict):  # some v5 versions answer a bare message
            body = await exchange.call("GET", path, query=self.include_query(tree))
        return await self.item_answer(exchange, body, tree)

    # -- response side ------------------------------------------------------------------------

    def context(self, exchange: Exchange, created: bool = False) -> Context:
        return Context(ids=exchange.ids, created=created, account_key=exchange.notes.get("account_key", ""))

    async def item_answer(self, exchange: Exchange, body: dict, tree: IncludeTree, created: bool = False):
        record = body.get("data")
        if not isinstance(record, dict):
            raise errors.upstream_bad_answer("no record in the answer")
        await self.fan_out(exchange, [record], tree)
        return json_response(200, {"data": self.plan.to_v4(record, tree, self.context(exchange, created))})

    async def fan_out(self, exchange: Exchange, rows: list[dict], tree: IncludeTree) -> None:
        """Fetch the includes v5 has no relation for (e.g. a client's invoices) by v5 list calls."""
        fanouts = self.plan.fanouts(tree)
        if not fanouts or not rows:
            return
        limit = asyncio.Semaphore(FANOUT_CONCURRENCY)

        async def fetch(row: dict, name: str, include, sub: IncludeTree) -> None:
            child = exchange.plans[include.entity]
            query = [(include.fanout.filter, row.get("id", "")), ("per_page", str(FANOUT_PAGE_SIZE))]
            names = child.upstream_includes(sub)
            if names:
                query.append(("include", ",".join(names)))
            async with limit:
                body = await exchange.call("GET", include.fanout.path, query=query)
            row[EntityPlan.fanout_key(name)] = body.get("data") or []

        await asyncio.gather(*(fetch(row, name, include, sub) for row in rows for name, include, sub in fanouts))

    def pagination(self, exchange: Exchange, v5: dict) -> dict:
        current = int(v5.get("current_page") or 1)
        v5_links = v5.get("links") if isinstance(v5.get("links"), dict) else {}
        links: dict[str, str] = {}
        if v5_links.get("previous"):
            links["previous"] = self.page_link(exchange, current - 1)
        if v5_links.get("next"):
            links["next"] = self.page_link(exchange, current + 1)
        return {
            "total": int(v5.get("total") or 0),
            "count": int(v5.get("count") or 0),
            "per_page": int(v5.get("per_page") or self.page_size),
            "current_page": current,
            "total_pages": int(v5.get("total_pages") or 0),
            "links": links or [],  # v4's Fractal wrote an empty JSON array, not an object
        }

    def page_link(self, exchange: Exchange, page: int) -> str:
        # v4's paginator kept only ?page= in its links (v4-api.md §5); so do we.
        request = exchange.request
        base = self.public_base or f"{request.scheme}://{request.host}"
        return f"{base}{request.path}?page={page}"

    def empty_page(self, exchange: Exchange) -> dict:
        per_page = _positive_int(exchange.request.query.get("per_page"), self.page_size)
        return {"data": [], "meta": {"pagination": {
            "total": 0, "count": 0, "per_page": per_page, "current_page": 1, "total_pages": 0, "links": []}}}


async def read_json_body(request: web.Request) -> dict:
    """The v4 JSON body; empty and `null` bodies (v4 clients send them on GET) count as {}."""
    try:
        raw = await request.read()
    except web.HTTPRequestEntityTooLarge as exc:
        raise errors.payload_too_large(request.client_max_size) from exc
    if not raw.strip():
        return {}
    try:
        body = orjson.loads(raw)
    except orjson.JSONDecodeError as exc:
        raise errors.bad_request(f"The request body is not valid JSON: {exc}") from exc
    if body is None:
        return {}
    if not isinstance(body, dict):
        raise errors.bad_request("The request body must be a JSON object")
    return body


def _positive_int(value: str | None, default: int) -> int:
    if value is not None and value.strip().isdigit() and int(value) > 0:
        return int(value)
    return default


def _truthy(value: str | None) -> bool:
    return value is not None and value.strip().lower() not in ("", "0", "false", "no", "off")
