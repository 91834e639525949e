"""/healthz and /readyz over real sockets: v5 reachable, checks registered by other parts, caching."""

from __future__ import annotations

import socket

from aiohttp import web

from ninja_bridge.app import create_app
from ninja_bridge.config import load_settings
from ninja_bridge.health import LIFECYCLE, READINESS_CHECKS


def closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


async def test_healthz_and_readyz_answer_outside_the_api(anonymous_proxy):
    alive = await anonymous_proxy.get("/healthz")
    assert alive.status == 200 and await alive.json() == {"status": "ok"}
    ready = await anonymous_proxy.get("/readyz")
    assert ready.status == 200
    assert await ready.json() == {"status": "ready", "checks": {"upstream": "ok", "mappings": "ok"}}


async def test_readyz_fails_while_v5_is_unreachable_and_healthz_does_not(aiohttp_client):
    settings = load_settings(upstream=f"http://127.0.0.1:{closed_port()}", upstream_retries=0)
    client = await aiohttp_client(create_app(settings))
    assert (await client.get("/healthz")).status == 200
    ready = await client.get("/readyz")
    assert ready.status == 503
    body = await ready.json()
    assert body["status"] == "not ready"
    assert body["checks"]["upstream"].startswith("v5 cannot be reached: cannot connect to 127.0.0.1:")
    assert body["checks"]["mappings"] == "ok"


async def test_readyz_fails_when_v5_answers_5xx(aiohttp_client, aiohttp_server):
    async def ping(request: web.Request) -> web.Response:
        return web.json_response({}, status=503)

    broken = web.Application()
    broken.router.add_get("/api/v1/ping", ping)
    server = await aiohttp_server(broken, host="127.0.0.1")
    client = await aiohttp_client(create_app(load_settings(upstream=str(server.make_url("")))))
    ready = await client.get("/readyz")
    assert ready.status == 503
    assert (await ready.json())["checks"]["upstream"] == "v5 answered 503"


async def test_the_v5_probe_is_cached_between_readiness_probes(aiohttp_client, aiohttp_server):
    pings = []

    async def ping(request: web.Request) -> web.Response:
        pings.append(request.headers.get("X-API-TOKEN"))
        return web.json_response({"message": "Invalid token"}, status=403)

    v5 = web.Application()
    v5.router.add_get("/api/v1/ping", ping)
    server = await aiohttp_server(v5, host="127.0.0.1")
    client = await aiohttp_client(create_app(load_settings(upstream=str(server.make_url("")), readiness_cache=60)))
    for _ in range(5):
        assert (await client.get("/readyz")).status == 200
    assert pings == [None]  # asked once, and without any token

    uncached = await aiohttp_client(create_app(load_settings(upstream=str(server.make_url("")), readiness_cache=0)))
    for _ in range(3):
        await uncached.get("/readyz")
    assert len(pings) == 4


async def test_registered_readiness_checks_take_part(aiohttp_client, proxy_settings):
    app = create_app(proxy_settings)
    state = {"loaded": False}

    async def idmap_loaded(app: web.Application) -> str | None:
        return None if state["loaded"] else "the id map is still loading"

    app[READINESS_CHECKS]["idmap"] = idmap_loaded
    client = await aiohttp_client(app)
    ready = await client.get("/readyz")
    assert ready.status == 503
    assert (await ready.json())["checks"] == {"upstream": "ok", "mappings": "ok",
                                              "idmap": "the id map is still loading"}
    state["loaded"] = True
    assert (await client.get("/readyz")).status == 200


async def test_a_check_that_raises_makes_the_proxy_not_ready_instead_of_failing(aiohttp_client, proxy_settings):
    app = create_app(proxy_settings)

    async def broken(app: web.Application) -> str | None:
        raise RuntimeError("disk gone")

    app[READINESS_CHECKS]["broken"] = broken
    ready = await (await aiohttp_client(app)).get("/readyz")
    assert ready.status == 503
    assert (await ready.json())["checks"]["broken"] == "check failed: RuntimeError: disk gone"


async def test_readyz_fails_once_stopping(aiohttp_client, proxy_settings):
    app = create_app(proxy_settings)
    client = await aiohttp_client(app)
    app[LIFECYCLE].stopping = True
    ready = await client.get("/readyz")
    assert ready.status == 503 and (await ready.json())["status"] == "stopping"
    assert (await client.get("/healthz")).status == 200
