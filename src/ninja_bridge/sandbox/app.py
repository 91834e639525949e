"""The aiohttp application: v5's routes under /api/v1, token auth and the error middleware."""

from __future__ import annotations

import logging
import warnings
from typing import Awaitable, Callable, Iterable

from aiohttp import web

from ninja_bridge.sandbox import account, actions, files, handlers, webhooks
from ninja_bridge.sandbox.entities import ROUTED_ENTITIES
from ninja_bridge.sandbox.errors import ApiError, invalid_token, method_not_supported, route_not_found, server_error
from ninja_bridge.sandbox.protocol import error_response, json_response, store_of
from ninja_bridge.sandbox.store import SandboxStore

log = logging.getLogger(__name__)

API = "/api/v1"
MAX_UPLOAD_BYTES = 100 * 1024 * 1024  # v5 allows 100,000 KB per document

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


@web.middleware
async def error_middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
    """Every failure leaves as v5 would send it; nothing escapes as a Python traceback."""
    try:
        return await handler(request)
    except ApiError as error:
        return error_response(request, error)
    except web.HTTPMethodNotAllowed:
        return error_response(request, method_not_supported())
    except web.HTTPNotFound:
        return json_response(route_not_found().body, 404)  # v5's fallback route answers JSON to anyone
    except web.HTTPException as error:
        if error.status < 400:
            raise
        return json_response({"message": error.reason}, error.status)
    except Exception:
        log.exception("sandbox handler failed: %s %s", request.method, request.path)
        return error_response(request, server_error())


@web.middleware
async def token_middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
    """X-API-TOKEN on every matched /api/v1 route but login; unknown routes 404 before auth."""
    unmatched = request.match_info.http_exception is not None
    if not unmatched and request.path != f"{API}/login":
        if request.headers.get("X-API-TOKEN") != store_of(request).token:
            raise invalid_token()
    return await handler(request)


def entity_pattern(names: Iterable[str]) -> str:
    return "{entity:" + "|".join(names) + "}"


def route_table() -> list[tuple[str, str, Handler]]:
    """(method, path under /api/v1, handler). More specific paths come first."""
    every = entity_pattern(ROUTED_ENTITIES)
    # users are not a Laravel resource in v5: no PATCH or DELETE on users/{user}
    resources = entity_pattern(name for name in ROUTED_ENTITIES if name != "users")
    with_actions = entity_pattern(actions.DOCUMENT_ACTIONS)
    uploadable = entity_pattern(files.UPLOADABLE)
    return [
        ("POST", "/login", handlers.login),
        ("POST", "/refresh", handlers.refresh),
        ("GET", "/ping", handlers.ping),
        ("GET", "/health_check", handlers.health_check),
        ("GET", "/statics", handlers.statics),
        ("PUT", "/companies/{id}", handlers.update_company),
        ("POST", "/emails", actions.send_email),
        ("GET", "/documents/{id}/download", files.download_document),
        ("POST", f"/{uploadable}/{{id}}/upload", files.upload_documents),  # with _method=PUT
        ("PUT", f"/{uploadable}/{{id}}/upload", files.upload_documents),
        ("GET", f"/{with_actions}/{{id}}/{{action}}", actions.document_action),
        ("POST", f"/{every}/bulk", actions.bulk_action),
        ("GET", f"/{every}/create", handlers.blank_record),
        ("GET", f"/{every}", handlers.list_records),
        ("POST", f"/{every}", handlers.create_record),
        ("GET", f"/{every}/{{id}}", handlers.show_record),
        ("PUT", f"/{every}/{{id}}", handlers.update_record),
        ("PATCH", f"/{resources}/{{id}}", handlers.update_record),
        ("DELETE", f"/{resources}/{{id}}", handlers.delete_record),
    ]


def add_routes(app: web.Application) -> None:
    for method, path, handler in route_table():
        if method == "GET":
            app.router.add_get(API + path, handler)  # also answers HEAD, as Laravel's GET routes do
        else:
            app.router.add_route(method, API + path, handler)


def create_app(token: str = account.SANDBOX_TOKEN, hash_salt: str = "", seed: bool = True,
               migrated: bool = False, key_shift: int | None = None) -> web.Application:
    """An in-memory v5 server. `app["store"]` is its SandboxStore; `seed` loads the sample company.

    `migrated` makes it an account the official tool migrated from v4: the same sample company with
    new v5 keys (shifted by `key_shift`; another shift = a forced re-migration) and v4 `id_number`s
    moved to `number`; `app["v4_fixture"]` then holds the v4 side (see sandbox/v4fixture.py).
    """
    from ninja_bridge.sandbox.seed import seed_store, setup_company
    from ninja_bridge.sandbox.v4fixture import MIGRATED_KEY_SHIFT, build_v4_fixture, migrate_numbers

    if key_shift is None:
        key_shift = MIGRATED_KEY_SHIFT if migrated else 0
    store = SandboxStore(token=token, hash_salt=hash_salt, key_shift=key_shift)
    setup_company(store)
    if seed or migrated:
        seed_store(store)
    fixture = None
    if migrated:
        fixture = build_v4_fixture(store)
        migrate_numbers(store)
    app = web.Application(middlewares=[error_middleware, token_middleware], client_max_size=MAX_UPLOAD_BYTES)
    with warnings.catch_warnings():
        # Other code reads app["store"] with a plain string key, so keep it one.
        warnings.simplefilter("ignore", web.NotAppKeyWarning)
        app["store"] = store
        if fixture is not None:
            app["v4_fixture"] = fixture
    add_routes(app)
    webhooks.install(app, store)
    return app
