"""`ninja-bridge serve` as a real process: signals, health during shutdown, limits on the socket."""

from __future__ import annotations

import asyncio
import os
import sys
import time
from pathlib import Path

import aiohttp
import pytest
from aiohttp import web

from ninja_bridge.sandbox import SANDBOX_TOKEN

AUTH = {"X-Ninja-Token": SANDBOX_TOKEN}
EMPTY_PAGE = {"data": [], "meta": {"pagination": {"total": 0, "count": 0, "per_page": 15, "current_page": 1,
                                                  "total_pages": 1, "links": {}}}}


@pytest.fixture
async def slow_upstream(aiohttp_server):
    """A v5 stand-in whose client list takes `delay` seconds; records when each request arrived."""
    state = {"delay": 1.5, "arrived": 0}

    async def ping(request: web.Request) -> web.Response:
        return web.json_response({"message": "Invalid token"}, status=403)

    async def clients(request: web.Request) -> web.Response:
        state["arrived"] += 1
        await asyncio.sleep(state["delay"])
        return web.json_response(EMPTY_PAGE)

    app = web.Application()
    app.router.add_get("/api/v1/ping", ping)
    app.router.add_get("/api/v1/clients", clients)
    server = await aiohttp_server(app, host="127.0.0.1")
    state["url"] = str(server.make_url("")).rstrip("/")
    return state


async def wait_until(predicate, timeout: float = 5.0) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError("condition not reached in time")
        await asyncio.sleep(0.02)


async def test_sigterm_fails_readiness_first_lets_the_request_finish_then_exits_0(start_bridge, slow_upstream):
    bridge = await start_bridge({"upstream": slow_upstream["url"], "shutdown_grace": 10})
    async with aiohttp.ClientSession() as client:
        async with client.get(bridge.url + "/readyz") as ready:
            assert ready.status == 200

        in_flight = asyncio.ensure_future(client.get(bridge.url + "/api/v1/clients", headers=AUTH))
        await wait_until(lambda: slow_upstream["arrived"] == 1)
        signalled = time.monotonic()
        bridge.terminate()
        await wait_until(lambda: bridge.events("stopping"))

        async with client.get(bridge.url + "/readyz") as ready:  # still listening, no longer ready
            assert ready.status == 503
            assert (await ready.json())["status"] == "stopping"
        async with client.get(bridge.url + "/healthz") as alive:
            assert alive.status == 200
        assert not in_flight.done()

        response = await in_flight
        assert response.status == 200
        assert (await response.json())["data"] == []
        response.release()

    assert await bridge.exit_code(timeout=5) == 0
    assert time.monotonic() - signalled < 5  # it left once the request was done, not at the end of the grace
    assert bridge.events("stopped") and not bridge.events("shutdown_cut")


async def test_the_grace_period_bounds_shutdown_when_a_request_does_not_finish(start_bridge, slow_upstream):
    slow_upstream["delay"] = 30
    bridge = await start_bridge({"upstream": slow_upstream["url"], "shutdown_grace": 1})
    async with aiohttp.ClientSession() as client:
        in_flight = asyncio.ensure_future(client.get(bridge.url + "/api/v1/clients", headers=AUTH))
        await wait_until(lambda: slow_upstream["arrived"] == 1)
        signalled = time.monotonic()
        bridge.terminate()
        assert await bridge.exit_code(timeout=10) == 0
        assert time.monotonic() - signalled < 6  # the grace (1 s) and the cut, not the upstream's 30 s
        with pytest.raises(aiohttp.ClientError):  # the cut request's connection is closed
            (await in_flight).raise_for_status()
    assert bridge.events("shutdown_cut")[0]["in_flight"] == 1


async def test_an_idle_proxy_exits_0_at_once_on_sigterm(start_bridge, slow_upstream):
    bridge = await start_bridge({"upstream": slow_upstream["url"], "shutdown_grace": 30})
    signalled = time.monotonic()
    bridge.terminate()
    assert await bridge.exit_code(timeout=5) == 0
    assert time.monotonic() - signalled < 5  # not the 30 s grace


async def test_header_limit_is_enforced_on_the_socket(start_bridge, slow_upstream):
    bridge = await start_bridge({"upstream": slow_upstream["url"], "max_header_size": 2048})
    async with aiohttp.ClientSession() as client:
        async with client.get(bridge.url + "/healthz", headers={"X-Padding": "a" * 1500}) as fits:
            assert fits.status == 200
        async with client.get(bridge.url + "/healthz", headers={"X-Padding": "a" * 3000}) as too_long:
            assert too_long.status == 400


async def test_a_bad_setting_stops_start_up_with_one_line_naming_it(slow_upstream):
    src = Path(__file__).resolve().parents[1] / "src"
    env = {**os.environ, "PYTHONPATH": str(src), "NINJA_BRIDGE_UPSTREAM": slow_upstream["url"],
           "NINJA_BRIDGE_REQUEST_TIMEOUT": "soon"}
    proc = await asyncio.create_subprocess_exec(sys.executable, "-m", "ninja_bridge.cli", "serve", env=env,
                                                stderr=asyncio.subprocess.PIPE, stdout=asyncio.subprocess.DEVNULL)
    _, err = await asyncio.wait_for(proc.communicate(), 15)
    assert proc.returncode == 2
    assert err.decode().strip().splitlines() == [
        "ninja-bridge: invalid setting NINJA_BRIDGE_REQUEST_TIMEOUT: Input should be a valid number, "
        "unable to parse string as a number"]


async def test_shutdown_delay_keeps_serving_while_readiness_fails(start_bridge, slow_upstream):
    bridge = await start_bridge({"upstream": slow_upstream["url"], "shutdown_delay": 1.5, "shutdown_grace": 5})
    signalled = time.monotonic()
    bridge.terminate()
    await wait_until(lambda: bridge.events("stopping"))
    async with aiohttp.ClientSession() as client:
        async with client.get(bridge.url + "/readyz") as ready:
            assert ready.status == 503
        async with client.get(bridge.url + "/healthz") as alive:  # new requests are still served
            assert alive.status == 200
    assert await bridge.exit_code(timeout=5) == 0
    assert 1.5 <= time.monotonic() - signalled < 5


async def test_a_second_signal_stops_the_wait(start_bridge, slow_upstream):
    slow_upstream["delay"] = 30
    bridge = await start_bridge({"upstream": slow_upstream["url"], "shutdown_grace": 30})
    async with aiohttp.ClientSession() as client:
        in_flight = asyncio.ensure_future(client.get(bridge.url + "/api/v1/clients", headers=AUTH))
        await wait_until(lambda: slow_upstream["arrived"] == 1)
        bridge.terminate()
        await wait_until(lambda: bridge.events("stopping"))
        signalled = time.monotonic()
        bridge.terminate()
        assert await bridge.exit_code(timeout=5) == 0
        assert time.monotonic() - signalled < 5  # not the 30 s grace
        with pytest.raises(aiohttp.ClientError):
            (await in_flight).raise_for_status()
    assert bridge.events("shutdown_cut")[0]["reason"] == "second signal"
