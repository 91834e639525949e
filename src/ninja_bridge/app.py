"""Builds the aiohttp application: the v4 routes, the middlewares, the shared resources."""

from __future__ import annotations

import asyncio
import time
import uuid
from typing import Awaitable, Callable

import orjson
from aiohttp import web

from . import errors
from .actions import Actions
from .config import Settings
from .documents import DocumentUpload
from .ids.codec import HashidCodec
from .ids.live import IdMapReloader, load_translator
from .ids.stores import open_store
from .ids.translator import IdTranslator, SchemeIdTranslator
from .health import LIFECYCLE, READINESS_CHECKS, CachedProbe, Lifecycle, add_health_routes
from .metrics import METRICS, Metrics, UpstreamClock, current_upstream_clock, metrics_handler
from .observability import debug_enabled, log, redact, redact_text
from .proxy import V5_ROUTE, Exchange, ResourceProxy, TokenResolver, json_response
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
IDMAP_RELOADER = web.AppKey("idmap_reloader", IdMapReloader)
REQUEST_ID = web.RequestKey("request_id", str)
ERROR_KIND = web.RequestKey("error_kind", str)


QUIET_PATHS = frozenset({"/healthz", "/readyz", "/metrics"})  # probed often: logged at debug only
DEBUG_BODY_LIMIT = 64 * 1024  # at debug level, JSON bodies up to this size are logged (redacted)


@web.middleware
async def request_context(request: web.Request, handler: Handler) -> web.StreamResponse:
    """Request id, v4 error shapes for everything that goes wrong, metrics, one access log line."""
    app = request.app
    request_id = request.headers.get("X-Request-ID") or uuid.uuid4().hex
    request[REQUEST_ID] = request_id
    lifecycle = app[LIFECYCLE]
    clock = UpstreamClock()
    clock_token = current_upstream_clock.set(clock)
    lifecycle.request_started()
    started = time.perf_counter()
    status = 499  # what nginx logs when the client went away before the answer
    try:
        if debug_enabled():
            await log_request_detail(request, request_id)
        response = await answer(request, handler)  # stamp_request_id adds X-Request-ID
        status = response.status
        return response
    finally:
        elapsed = time.perf_counter() - started
        lifecycle.request_finished()
        current_upstream_clock.reset(clock_token)
        record_request(request, status, elapsed, clock)


async def answer(request: web.Request, handler: Handler) -> web.StreamResponse:
    """The handler's response, or the v4-shaped error for what went wrong, within the request timeout."""
    settings = request.app[SETTINGS]
    try:
        async with asyncio.timeout(settings.request_timeout) as deadline:
            return await handler(request)
    except errors.V4Error as exc:
        error = exc
    except web.HTTPRequestEntityTooLarge:
        error = errors.payload_too_large(settings.max_body_size)
    except web.HTTPNotFound:
        error = errors.route_not_found()
    except web.HTTPMethodNotAllowed:
        error = errors.method_not_allowed(request.method)
    except TimeoutError:
        if not deadline.expired():
            raise
        error = errors.request_timeout(settings.request_timeout)
    except Exception:
        log.exception("unhandled_error", request_id=request[REQUEST_ID], path=request.path)
        error = errors.server_error(kind="unhandled")
    request[ERROR_KIND] = error.kind
    return json_response(error.status, error.body)


def route_label(request: web.Request) -> str:
    """The v4 route template (bounded, unlike the raw path), for metrics and the access log."""
    route = request.match_info.route.resource
    return route.canonical if route is not None else "unmatched"


def record_request(request: web.Request, status: int, elapsed: float, clock: UpstreamClock) -> None:
    metrics = request.app[METRICS]
    route = route_label(request)
    metrics.requests.labels(method=request.method, route=route, status=str(status)).inc()
    metrics.request_duration.labels(method=request.method, route=route).observe(elapsed)
    kind = request.get(ERROR_KIND)
    if kind == "translation":  # a v4 body refused (4xx), or a v5 answer that could not be translated (5xx)
        metrics.translation_failures.labels(stage="request" if status < 500 else "response").inc()
    elif kind == "unhandled":  # the flow failed unexpectedly: after v5 answered, that is translating it
        metrics.translation_failures.labels(stage="response" if request.get(V5_ROUTE) else "request").inc()
    write = log.debug if request.path in QUIET_PATHS else log.info
    write(
        "request",
        request_id=request[REQUEST_ID],
        method=request.method,
        path=request.path,
        v4_route=route,
        v5_route=request.get(V5_ROUTE, ""),
        status=status,
        duration_ms=round(elapsed * 1000, 2),
        upstream_ms=round(clock.seconds * 1000, 2),
        upstream_calls=clock.calls,
    )


async def log_request_detail(request: web.Request, request_id: str) -> None:
    """At debug level: the request's query, headers and (small JSON) body; redact() hides secrets."""
    body: object = None
    if request.can_read_body and request.content_type == "application/json" \
            and request.content_length is not None \
            and request.content_length <= min(DEBUG_BODY_LIMIT, request.client_max_size):
        raw = await request.read()  # cached: the handler reads the same bytes
        try:
            body = orjson.loads(raw) if raw else None
        except orjson.JSONDecodeError:
            body = raw.decode("utf-8", "replace")
    # Redacted here as well as by the log processor: these fields exist to carry secrets.
    log.debug("request_detail", request_id=request_id, method=request.method, path=request.path,
              query=redact_text(request.query_string), headers=redact(dict(request.headers)), body=redact(body))


async def stamp_request_id(request: web.Request, response: web.StreamResponse) -> None:
    """Streamed answers (PDF downloads) send their headers before the middleware gets them back."""
    if REQUEST_ID in request:
        response.headers.setdefault("X-Request-ID", request[REQUEST_ID])


async def mappings_loaded(app: web.Application) -> str | None:
    return None if len(app[PLANS].mappings.resources) else "no resources in the mappings"


def v4_token(request: web.Request) -> str | None:
    """v4 read the token from X-Ninja-Token only; X-API-TOKEN is accepted too for convenience."""
    token = request.headers.get("X-Ninja-Token") or request.headers.get("X-API-TOKEN")
    token = (token or "").strip()
    return token or None


async def pass_token_through(token: str) -> str | None:
    return token


def configured_token_resolver(settings: Settings) -> TokenResolver:
    if settings.token_map is None:
        return pass_token_through
    from .tokens import load_token_map, token_resolver

    return token_resolver(load_token_map(settings.token_map), settings.token_map_passthrough)


def create_app(settings: Settings, mappings: Mappings | None = None, ids: IdTranslator | None = None,
               resolve_token: TokenResolver | None = None) -> web.Application:
    """The proxy. Without explicit ``ids``/``resolve_token`` they come from the settings (id map,
    token map); a configuration that could break the id invariants raises IdMapConfigError here."""
    mappings = mappings or load_mappings(settings.mappings_dir, known_functions=known_functions())
    reloader = None
    if ids is None and settings.idmap:
        store = open_store(settings.idmap)
        ids = load_translator(store, HashidCodec(settings.hash_salt), settings.native_id_base)
        reloader = IdMapReloader(store, ids, settings.idmap_poll_interval)
    ids = ids or SchemeIdTranslator(HashidCodec(settings.hash_salt))
    if resolve_token is None:
        resolve_token = configured_token_resolver(settings)
    plans = PlanSet(mappings, ids, COMPUTED)
    plans.compile_all()  # fail at start-up, not on the first request
    metrics = Metrics()
    upstream = Upstream(settings, metrics)

    app = web.Application(client_max_size=settings.max_body_size, middlewares=[request_context])
    app[SETTINGS] = settings
    app[UPSTREAM] = upstream
    app[PLANS] = plans
    app[METRICS] = metrics
    app[LIFECYCLE] = lifecycle = Lifecycle()
    metrics.in_flight.set_function(lambda: lifecycle.in_flight)  # read at scrape time
    app[READINESS_CHECKS] = {
        "upstream": CachedProbe(upstream.probe, settings.readiness_cache),
        "mappings": mappings_loaded,
    }
    add_health_routes(app)
    app.router.add_get("/metrics", metrics_handler)

    if reloader is not None:
        app[IDMAP_RELOADER] = reloader
        app[READINESS_CHECKS]["idmap"] = reloader.readiness
        metrics.watch_idmap(reloader.translator)

    async def start(app: web.Application) -> None:
        await upstream.start()
        if reloader is not None:
            await reloader.start()

    async def stop(app: web.Application) -> None:
        if reloader is not None:
            await reloader.stop()
        await upstream.close()

    app.on_response_prepare.append(stamp_request_id)
    app.on_startup.append(start)
    app.on_cleanup.append(stop)

    async def open_exchange(request: web.Request) -> Exchange:
        token = v4_token(request)
        v5_token = await resolve_token(token) if token else None
        if not v5_token:
            raise errors.invalid_token()
        return Exchange(request=request, token=v5_token, upstream=upstream, plans=plans, ids=ids,
                        public_base=settings.public_base)

    resources = {
        name: RESOURCE_PROXIES.get(name, ResourceProxy)(
            name, spec, plans, mappings.settings.default_page_size)
        for name, spec in mappings.resources.items()
    }
    for resource in resources.values():
        resource.variants = {kind: resources[variant.resource] for kind, variant in resource.spec.variants.items()}

    def exchange_handler(resource: ResourceProxy | None,
                         operation: Callable[[Exchange], Awaitable[web.StreamResponse]]) -> Handler:
        async def handle(request: web.Request) -> web.StreamResponse:
            exchange = await open_exchange(request)
            if resource is not None:
                exchange.notes["error_field"] = resource.error_field
            return await operation(exchange)

        return handle

    actions = Actions()

    def operation_handler(resource: ResourceProxy, operation: str) -> Handler:
        method = getattr(resource, operation)
        if operation == "update" and resource.spec.actions is not None:
            method = actions.update_or_act(resource, method)  # v4's update() ran `?action=` instead
        return exchange_handler(resource, method)

    def special_handler(route: SpecialRoute) -> Handler:
        if route.auth:
            return exchange_handler(None, route.handler)

        async def handle(request: web.Request) -> web.StreamResponse:
            exchange = Exchange(request=request, token="", upstream=upstream, plans=plans, ids=ids,
                                public_base=settings.public_base)
            return await route.handler(exchange)

        return handle

    # Before the route table: `GET /clients/create` must not reach `GET /clients/{id}`, and the v4
    # upload is not a plain create of a `documents` resource.
    for special in SPECIAL_ROUTES:
        app.router.add_route(special.method, API_PREFIX + special.path, special_handler(special))
    add_action_routes(app, actions, resources, settings, exchange_handler)
    for route in route_table(mappings):
        app.router.add_route(route.method, route.path, operation_handler(resources[route.resource], route.operation))

    setup_webhooks(app, settings, mappings, plans, ids, open_exchange, registry=metrics.registry)

    async def unknown_route(request: web.Request) -> web.StreamResponse:
        raise errors.route_not_found()

    app.router.add_route("*", API_PREFIX + "/{tail:.*}", unknown_route)
    return app


def add_action_routes(app: web.Application, actions: Actions, resources: dict[str, ResourceProxy],
                      settings: Settings, exchange_handler: Callable) -> None:
    """v4 routes outside the resource table: email and PDF of an invoice, document upload
    (`PUT ?action=` rides on the resources' update)."""
    invoices = resources["invoices"]
    handlers = {
        ("POST", "/email_invoice"): (invoices, lambda exchange: actions.email_invoice(invoices, exchange)),
        ("GET", "/download/{id}"): (invoices, lambda exchange: actions.download(invoices, exchange)),
        ("POST", "/documents"): (None, lambda exchange: DocumentUpload(exchange, settings.max_body_size).handle()),
    }
    for (method, path), (resource, handler) in handlers.items():
        app.router.add_route(method, API_PREFIX + path, exchange_handler(resource, handler))
