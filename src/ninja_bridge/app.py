"""Builds the aiohttp application: the v4 routes, the middlewares, the shared resources."""

from __future__ import annotations

import asyncio
import time
import uuid
from typing import Awaitable, Callable

from aiohttp import web

from . import errors
from .config import Settings
from .ids.codec import HashidCodec
from .ids.translator import IdTranslator, SchemeIdTranslator
from .observability import log
from .proxy import Exchange, ResourceProxy, TokenResolver, json_response
from .resources.special import SPECIAL_ROUTES, SpecialRoute
from .resources.tasks import TaskProxy
from .routes import API_PREFIX, route_table
from .translate.plan import PlanSet
from .translate.spec import Mappings, load_mappings
from .translate.structural import COMPUTED, known_functions
from .upstream import Upstream
from .webhooks import setup_webhooks

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]

# Resources whose v4 operations need more than the generic proxy (e.g. task timers).
RESOURCE_PROXIES: dict[str, type[ResourceProxy]] = {"tasks": TaskProxy}

SETTINGS = web.AppKey("settings", Settings)
UPSTREAM = web.AppKey("upstream", Upstream)
PLANS = web.AppKey("plans", PlanSet)
IDS = web.AppKey("ids", object)
REQUEST_ID = web.RequestKey("request_id", str)
V5_ROUTE = web.RequestKey("v5_route", str)
ERROR_KIND = web.RequestKey("error_kind", str)


@web.middleware
async def request_context(request: web.Request, handler: Handler) -> web.StreamResponse:
    """Request id, v4 error shapes for everything that goes wrong, one access log line."""
    request_id = request.headers.get("X-Request-ID") or uuid.uuid4().hex
    request[REQUEST_ID] = request_id
    started = time.perf_counter()
    try:
        response = await handler(request)
    except errors.V4Error as exc:
        response = json_response(exc.status, exc.body)
        request[ERROR_KIND] = exc.kind
    except web.HTTPRequestEntityTooLarge:
        response = json_response(*_as_pair(errors.payload_too_large(request.app[SETTINGS].max_body_size)))
    except web.HTTPNotFound:
        response = json_response(*_as_pair(errors.route_not_found()))
    except web.HTTPMethodNotAllowed:
        response = json_response(405, {"error": {"message": f"Method {request.method} is not allowed on this route"}})
    except asyncio.CancelledError:
        raise
    except Exception:
        log.exception("unhandled_error", request_id=request_id, path=request.path)
        response = json_response(*_as_pair(errors.server_error()))
    response.headers["X-Request-ID"] = request_id
    route = request.match_info.route.resource
    log.info(
        "request",
        request_id=request_id,
        method=request.method,
        v4_route=route.canonical if route is not None else request.path,
        v5_route=request.get(V5_ROUTE, ""),
        status=response.status,
        duration_ms=round((time.perf_counter() - started) * 1000, 2),
    )
    return response


def _as_pair(error: errors.V4Error) -> tuple[int, object]:
    return error.status, error.body


def v4_token(request: web.Request) -> str | None:
    """v4 read the token from X-Ninja-Token only; X-API-TOKEN is accepted too for convenience."""
    token = request.headers.get("X-Ninja-Token") or request.headers.get("X-API-TOKEN")
    token = (token or "").strip()
    return token or None


async def pass_token_through(token: str) -> str | None:
    return token


def create_app(settings: Settings, mappings: Mappings | None = None, ids: IdTranslator | None = None,
               resolve_token: TokenResolver = pass_token_through) -> web.Application:
    mappings = mappings or load_mappings(settings.mappings_dir, known_functions=known_functions())
    ids = ids or SchemeIdTranslator(HashidCodec(settings.hash_salt))
    plans = PlanSet(mappings, ids, COMPUTED)
    plans.compile_all()  # fail at start-up, not on the first request
    upstream = Upstream(settings)

    app = web.Application(client_max_size=settings.max_body_size, middlewares=[request_context])
    app[SETTINGS] = settings
    app[UPSTREAM] = upstream
    app[PLANS] = plans
    app[IDS] = ids

    async def start(app: web.Application) -> None:
        await upstream.start()

    async def stop(app: web.Application) -> None:
        await upstream.close()

    app.on_startup.append(start)
    app.on_cleanup.append(stop)

    async def open_exchange(request: web.Request) -> Exchange:
        token = v4_token(request)
        v5_token = await resolve_token(token) if token else None
        if not v5_token:
            raise errors.invalid_token()
        return Exchange(request=request, token=v5_token, upstream=upstream, plans=plans, ids=ids)

    resources = {
        name: RESOURCE_PROXIES.get(name, ResourceProxy)(
            name, spec, plans, mappings.settings.default_page_size, settings.public_base)
        for name, spec in mappings.resources.items()
    }
    for resource in resources.values():
        resource.variants = {kind: resources[variant.resource] for kind, variant in resource.spec.variants.items()}

    def operation_handler(resource: ResourceProxy, operation: str) -> Handler:
        async def handle(request: web.Request) -> web.StreamResponse:
            exchange = await open_exchange(request)
            exchange.notes["error_field"] = resource.error_field
            try:
                return await getattr(resource, operation)(exchange)
            finally:
                request[V5_ROUTE] = exchange.v5_route

        return handle

    def special_handler(route: SpecialRoute) -> Handler:
        async def handle(request: web.Request) -> web.StreamResponse:
            if route.auth:
                exchange = await open_exchange(request)
            else:
                exchange = Exchange(request=request, token="", upstream=upstream, plans=plans, ids=ids)
            try:
                return await route.handler(exchange)
            finally:
                request[V5_ROUTE] = exchange.v5_route

        return handle

    for special in SPECIAL_ROUTES:  # first: `GET /clients/create` must not reach `GET /clients/{id}`
        app.router.add_route(special.method, API_PREFIX + special.path, special_handler(special))

    for route in route_table(mappings):
        app.router.add_route(route.method, route.path, operation_handler(resources[route.resource], route.operation))

    setup_webhooks(app, settings, mappings, plans, ids, open_exchange)

    async def unknown_route(request: web.Request) -> web.StreamResponse:
        raise errors.route_not_found()

    app.router.add_route("*", API_PREFIX + "/{tail:.*}", unknown_route)
    return app
