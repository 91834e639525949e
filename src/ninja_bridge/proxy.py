"""The flow of one proxied v4 request: authenticate, translate the request, call v5, translate
the answer. Each step lives in its own module; this one only strings them together."""

from __future__ import annotations

import asyncio
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any, Awaitable, Callable, Iterator

import aiohttp
import orjson
from aiohttp import web

from . import errors
from .observability import log
from .ids.translator import IdError, IdTranslator, space_of
from .translate.plan import Context, EntityPlan, IncludeTree, PlanSet, TranslationError, parse_includes
from .translate.spec import ResourceSpec
from .translate.structural import REWRITES
from .upstream import Upstream

FANOUT_PAGE_SIZE = 5000  # v5's largest page: one call brings all of a parent's children
FANOUT_CONCURRENCY = 8

TokenResolver = Callable[[str], Awaitable[str | None]]


def json_response(status: int, body: Any, headers: dict[str, str] | None = None) -> web.Response:
    return web.Response(status=status, body=orjson.dumps(body), content_type="application/json",
                        headers=headers)


V5_ROUTE = web.RequestKey("v5_route", str)  # the main v5 call a v4 request became


@dataclass
class Exchange:
    """What one v4 request carries through the steps: its v5 token and the tools to use it."""

    request: web.Request
    token: str
    upstream: Upstream
    plans: PlanSet
    ids: IdTranslator
    public_base: str | None = None  # the proxy's public URL (settings), for links it answers
    notes: dict[str, Any] = field(default_factory=dict)

    @property
    def v5_route(self) -> str:
        return self.request.get(V5_ROUTE, "")

    @v5_route.setter
    def v5_route(self, route: str) -> None:
        self.request[V5_ROUTE] = route  # kept on the request: the access log and metrics read it there

    async def fetch_json(self, path: str, query: Any = None) -> Any:
        """A side call to v5 (a lookup a rewrite needs); None when v5 has no such record."""
        if not self.v5_route:  # logged until the main call, if any, names itself
            self.v5_route = f"GET /api/v1/{path}"
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

    def __init__(self, name: str, spec: ResourceSpec, plans: PlanSet, page_size: int):
        self.name = name
        self.spec = spec
        self.plan: EntityPlan = plans[spec.entity]
        self.kind = self.plan.spec.kind or spec.entity
        self.page_size = page_size
        self.variants: dict[str, ResourceProxy] = {}  # v5 kind -> the proxy serving it (set by the app)

    # -- request side -------------------------------------------------------------------------

    def record_path(self, exchange: Exchange, raw_id: str) -> str:
        """The v5 path of a record of this resource's own kind."""
        target, path = self.resolve(exchange, raw_id)
        if target is not self:
            raise errors.record_not_found()
        return path

    def resolve(self, exchange: Exchange, raw_id: str) -> tuple["ResourceProxy", str]:
        """Which resource serves the record a v4 id names (v4's shared invoice space), and its v5 path."""
        if not raw_id.isdigit():
            raise errors.record_not_found()
        v4_id = int(raw_id)
        if v4_id == 0:
            raise errors.V4Error(404, {"error": "Record not found"})
        try:
            kind, v5_id = exchange.ids.locate(space_of(self.kind), v4_id)
        except IdError as exc:
            raise errors.record_not_found() from exc
        target = self if kind == self.kind else self.variants.get(kind)
        if target is None:
            raise errors.record_not_found()
        return target, f"{target.spec.v5_path}/{v5_id}"

    def create_option_query(self, v5_body: dict) -> list[tuple[str, str]]:
        """v4 create options (`email_invoice`, `paid` as an amount) as v5 query flags, out of the body."""
        query = []
        for v4_name, v5_name in self.spec.create_flags.items():
            if _truthy_value(v5_body.pop(v4_name, None)):
                query.append((v5_name, "true"))
        for v4_name, v5_name in self.spec.create_amounts.items():
            amount = _positive_float(v5_body.pop(v4_name, None))
            if amount:
                query.append((v5_name, f"{amount:g}"))
        return query

    def variant_for_create(self, v4_body: dict) -> "ResourceProxy":
        for kind, variant in self.spec.variants.items():
            if _truthy_value(v4_body.get(variant.flag)) and kind in self.variants:
                return self.variants[kind]
        return self

    def variant_for_list(self, query) -> "ResourceProxy":
        for kind, variant in self.spec.variants.items():
            for name, values in variant.list_when.items():
                if str(query.get(name, "")).strip().lower() in values and kind in self.variants:
                    return self.variants[kind]
        return self

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
        tables = exchange.plans.mappings.tables
        for v4_name, at_least in self.spec.at_least_filters.items():
            if v4_name in v4:
                wanted = _positive_int(v4[v4_name], 0)
                values = sorted(v5 for v5, v4_value in tables[at_least.table].to_v4.items() if v4_value >= wanted)
                if not values:
                    return None
                query.append((at_least.v5, ",".join(map(str, values))))
        if _truthy(v4.get("filter_active")):
            query.append(("status", "active"))
        if self.spec.sort:
            query.append(("sort", self.spec.sort))
        return query + self.include_query(tree)

    async def v5_body(self, exchange: Exchange, operation: str) -> dict:
        v4_body = await read_json_body(exchange.request)
        if operation == "create":
            v4_body = {**self.spec.create_defaults, **v4_body}
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
        target = self.variant_for_list(exchange.request.query)
        if target is not self:
            return await target.list(exchange)
        tree = self.includes(exchange.request)
        query = self.list_query(exchange, tree)
        if query is None:
            return json_response(200, self.empty_page(exchange))
        body = await exchange.call("GET", self.spec.v5_path, query=query)
        rows = body.get("data") if isinstance(body.get("data"), list) else []
        await self.fan_out(exchange, rows, tree)
        ctx = self.context(exchange)
        with undecodable_ids_as_v4_error():
            data = [self.plan.to_v4(row, tree, ctx) for row in rows]
        meta = {"pagination": self.pagination(exchange, body.get("meta", {}).get("pagination") or {})}
        return json_response(200, {"data": data, "meta": meta})

    async def show(self, exchange: Exchange) -> web.Response:
        target, path = self.resolve(exchange, exchange.request.match_info["id"])
        tree = target.includes(exchange.request)
        body = await exchange.call("GET", path, query=target.include_query(tree))
        return await target.item_answer(exchange, body, tree)

    async def create(self, exchange: Exchange) -> web.Response:
        target = self.variant_for_create(await read_json_body(exchange.request))
        tree = target.includes(exchange.request)
        v5_body = await target.v5_body(exchange, "create")
        for variant in self.spec.variants.values():
            v5_body.pop(variant.flag, None)  # v4's type flags: the v5 path says it
        query = target.include_query(tree) + self.create_option_query(v5_body)
        body = await exchange.call("POST", target.spec.v5_path, query=query, body=v5_body)
        return await target.item_answer(exchange, body, tree, created=True)

    async def update(self, exchange: Exchange) -> web.Response:
        target, path = self.resolve(exchange, exchange.request.match_info["id"])
        tree = target.includes(exchange.request)
        v5_body = await target.v5_body(exchange, "update")
        body = await exchange.call("PUT", path, query=target.include_query(tree), body=v5_body)
        return await target.item_answer(exchange, body, tree)

    async def delete(self, exchange: Exchange) -> web.Response:
        target, path = self.resolve(exchange, exchange.request.match_info["id"])
        tree = target.includes(exchange.request)
        query = target.include_query(tree)
        before = await exchange.call("GET", path, query=query) if target.spec.hard_delete else None
        body = await exchange.call("DELETE", path, query=query)
        if not isinstance(body.get("data"), dict):
            # v5 answered a bare message; v4 answered the deleted record: read it again (soft
            # deleted), or show it as read just before, marked deleted (gone for good).
            body = ({"data": {**before.get("data", {}), "is_deleted": True}} if before
                    else await exchange.fetch_json(path, query=query) or {})
        return await target.item_answer(exchange, body, tree)

    # -- response side ------------------------------------------------------------------------

    def context(self, exchange: Exchange, created: bool = False) -> Context:
        return Context(ids=exchange.ids, created=created)

    async def item_answer(self, exchange: Exchange, body: dict, tree: IncludeTree, created: bool = False):
        return json_response(200, {"data": await self.render(exchange, body.get("data"), tree, created)})

    async def render(self, exchange: Exchange, record: Any, tree: IncludeTree, created: bool = False,
                     plan: EntityPlan | None = None) -> dict:
        """One v5 record as v4 shows it (in this resource's shape unless `plan` names another)."""
        if not isinstance(record, dict):
            raise errors.upstream_bad_answer("no record in the answer")
        plan = plan or self.plan
        await self.fan_out(exchange, [record], tree, plan)
        with undecodable_ids_as_v4_error():
            return plan.to_v4(record, tree, self.context(exchange, created))

    async def fan_out(self, exchange: Exchange, rows: list[dict], tree: IncludeTree,
                      plan: EntityPlan | None = None) -> None:
        await fan_out(exchange, plan or self.plan, rows, tree)

    def pagination(self, exchange: Exchange, v5: dict) -> dict:
        return v4_pagination(exchange, total=int(v5.get("total") or 0), count=int(v5.get("count") or 0),
                             per_page=int(v5.get("per_page") or self.page_size),
                             current_page=int(v5.get("current_page") or 1),
                             total_pages=int(v5.get("total_pages") or 0))

    def empty_page(self, exchange: Exchange) -> dict:
        per_page = _positive_int(exchange.request.query.get("per_page"), self.page_size)
        return {"data": [], "meta": {"pagination": v4_pagination(
            exchange, total=0, count=0, per_page=per_page, current_page=1, total_pages=0)}}


def v4_pagination(exchange: Exchange, *, total: int, count: int, per_page: int, current_page: int,
                  total_pages: int) -> dict:
    """v4's `meta.pagination`: links to the proxy keeping only ?page= (v4-api.md §5), `[]` when none."""
    request = exchange.request
    base = f"{exchange.public_base or f'{request.scheme}://{request.host}'}{request.path}"
    links: dict[str, str] = {}
    if current_page > 1:
        links["previous"] = f"{base}?page={current_page - 1}"
    if current_page < total_pages:
        links["next"] = f"{base}?page={current_page + 1}"
    return {"total": total, "count": count, "per_page": per_page, "current_page": current_page,
            "total_pages": total_pages, "links": links or []}  # v4's Fractal wrote [], not {}


async def fan_out(exchange: Exchange, plan: EntityPlan, rows: list[dict], tree: IncludeTree) -> None:
    """Fetch the includes v5 has no relation for (e.g. a client's invoices) by v5 list calls."""
    fanouts = plan.fanouts(tree)
    if not fanouts or not rows:
        return
    limit = asyncio.Semaphore(FANOUT_CONCURRENCY)

    async def fetch(row: dict, name: str, include, sub: IncludeTree) -> None:
        child = exchange.plans[include.entity]
        query = [("per_page", str(FANOUT_PAGE_SIZE))]
        if include.fanout.filter:
            query.append((include.fanout.filter, row.get("id", "")))
        names = child.upstream_includes(sub)
        if names:
            query.append(("include", ",".join(names)))
        async with limit:
            body = await exchange.call("GET", include.fanout.path, query=query)
        row[EntityPlan.fanout_key(name)] = body.get("data") or []

    await asyncio.gather(*(fetch(row, name, include, sub) for row in rows for name, include, sub in fanouts))


def v5_id_or_404(exchange: Exchange, kind: str, raw: object) -> str:
    """The v5 id of a v4 id given in a path or body, or v4's "record does not exist"."""
    try:
        return exchange.ids.to_v5(kind, int(str(raw)))
    except (ValueError, IdError):
        raise errors.record_not_found() from None


async def list_all(exchange: Exchange, path: str) -> list[dict]:
    """Every row of a v5 list, in v5's largest page (for answers v4 computed over a whole table)."""
    body = await exchange.call("GET", path, query=[("per_page", str(FANOUT_PAGE_SIZE))])
    return [row for row in body.get("data") or () if isinstance(row, dict)]


STREAM_CHUNK = 64 * 1024


async def stream_from_v5(exchange: Exchange, path: str,
                         headers_for: Callable[[aiohttp.ClientResponse], dict[str, str]]) -> web.StreamResponse:
    """A v5 file (PDF, document) passed to the client chunk by chunk as v5 sends it, never held
    whole; `headers_for` gives the client's headers from v5's answer."""
    exchange.v5_route = f"GET /api/v1/{path}"
    async with exchange.upstream.open("GET", path, headers=exchange.upstream.headers(exchange.token)) as upstream:
        if upstream.status != 200:
            raise errors.from_v5(upstream.status, await exchange.upstream.read_json(upstream), lambda key: key)
        response = web.StreamResponse(headers=headers_for(upstream))
        if upstream.content_length is not None:
            response.content_length = upstream.content_length
        await response.prepare(exchange.request)
        try:
            async for chunk in upstream.content.iter_chunked(STREAM_CHUNK):
                await response.write(chunk)
        except (aiohttp.ClientError, asyncio.TimeoutError) as exc:
            # Headers are gone: the only honest signal left is a cut connection.
            log.warning("download_cut", v5_route=exchange.v5_route, error=type(exc).__name__)
            if exchange.request.transport is not None:
                exchange.request.transport.close()
            return response
        await response.write_eof()
        return response


@contextmanager
def undecodable_ids_as_v4_error() -> Iterator[None]:
    """An id v5 sent that the translator cannot read: most often a HASH_SALT that differs."""
    try:
        yield
    except IdError as exc:
        raise errors.upstream_bad_answer(
            f"{exc} (is NINJA_BRIDGE_HASH_SALT the v5 server's HASH_SALT?)", kind="translation") from exc


V4_BODY = web.RequestKey("v4_body", dict)


async def read_json_body(request: web.Request) -> dict:
    """The v4 JSON body, parsed once per request (several steps read it); empty and `null`
    bodies (v4 clients send them on GET) count as {}. Callers must not change it in place."""
    if V4_BODY not in request:
        request[V4_BODY] = await _parse_json_body(request)
    return request[V4_BODY]


async def _parse_json_body(request: web.Request) -> dict:
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


def _positive_float(value: Any) -> float | None:
    try:
        number = float(value)
    except (TypeError, ValueError):
        return None
    return number if number > 0 and not isinstance(value, bool) else None


def _truthy_value(value: Any) -> bool:
    """A v4 body flag: true, 1, "1", "true" (PHP's truthiness, minus its "0" quirks)."""
    return _truthy(value) if isinstance(value, str) else bool(value)
