"""A slow, dead or misbehaving v5 and oversized requests: clear v4-shaped errors, never a hang."""

from __future__ import annotations

import asyncio
import socket
import time

import pytest
from aiohttp import web

from ninja_bridge.app import create_app
from ninja_bridge.config import load_settings

from ninja_bridge.sandbox import SANDBOX_TOKEN

V4_AUTH = {"X-Ninja-Token": SANDBOX_TOKEN}

PAGE = {"data": [], "meta": {"pagination": {"total": 0, "count": 0, "per_page": 15, "current_page": 1,
                                            "total_pages": 1, "links": {}}}}


async def proxy_for(aiohttp_client, upstream: str, **settings):
    return await aiohttp_client(create_app(load_settings(upstream=upstream, **settings)), headers=V4_AUTH)


async def timed(request) -> tuple[int, dict, float]:
    started = time.monotonic()
    response = await request
    return response.status, await response.json(), time.monotonic() - started


@pytest.fixture
async def v5(aiohttp_server):
    """A v5 stand-in: behaviours by path, and what it saw."""
    seen = {"connections": set(), "concurrent": 0, "most_concurrent": 0}

    async def slow(request):
        await asyncio.sleep(3)
        return web.json_response(PAGE)

    async def trickle(request):  # every read is quick, the whole answer is not
        response = web.StreamResponse(headers={"Content-Type": "application/json"})
        await response.prepare(request)
        for _ in range(30):
            await response.write(b" ")
            await asyncio.sleep(0.1)
        await response.write(b"{}")
        return response

    async def counted(request):
        seen["connections"].add(request.transport.get_extra_info("peername"))
        seen["concurrent"] += 1
        seen["most_concurrent"] = max(seen["most_concurrent"], seen["concurrent"])
        await asyncio.sleep(0.15)
        seen["concurrent"] -= 1
        return web.json_response(PAGE)

    app = web.Application()
    app.router.add_get("/api/v1/clients", slow)
    app.router.add_get("/api/v1/products", trickle)
    app.router.add_get("/api/v1/tax_rates", counted)
    server = await aiohttp_server(app, host="127.0.0.1")
    seen["url"] = str(server.make_url("")).rstrip("/")
    return seen


async def test_read_timeout_gives_504(aiohttp_client, v5):
    client = await proxy_for(aiohttp_client, v5["url"], upstream_read_timeout=0.3)
    status, body, elapsed = await timed(client.get("/api/v1/clients"))
    assert status == 504
    assert body == {"error": {"message": "The v5 server did not send anything within 0.3 seconds"}}
    assert elapsed < 2


async def test_total_timeout_gives_504_even_when_every_read_is_quick(aiohttp_client, v5):
    client = await proxy_for(aiohttp_client, v5["url"], upstream_read_timeout=1, upstream_total_timeout=0.5)
    status, body, elapsed = await timed(client.get("/api/v1/products"))
    assert status == 504
    assert body["error"]["message"] == "The v5 server did not answer within 0.5 seconds"
    assert elapsed < 2


async def test_connect_timeout_gives_504(aiohttp_client):
    # A listener that never accepts, with its backlog filled: further connections hang in SYN.
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(0)
    port = listener.getsockname()[1]
    fillers = []
    try:
        for _ in range(4):
            filler = socket.socket()
            filler.setblocking(False)
            filler.connect_ex(("127.0.0.1", port))
            fillers.append(filler)
        client = await proxy_for(aiohttp_client, f"http://127.0.0.1:{port}", upstream_connect_timeout=0.3,
                                 upstream_retries=0)
        status, body, elapsed = await timed(client.get("/api/v1/clients"))
    finally:
        for sock in fillers + [listener]:
            sock.close()
    assert status == 504
    assert body == {"error": {"message": "The v5 server did not accept a connection within 0.3 seconds"}}
    assert elapsed < 3


async def test_connection_refused_gives_502_after_bounded_retries(aiohttp_client):
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    client = await proxy_for(aiohttp_client, f"http://127.0.0.1:{port}", upstream_retries=2)
    status, body, elapsed = await timed(client.get("/api/v1/clients"))
    assert status == 502
    assert body == {"error": {"message": f"The v5 server could not be reached: cannot connect to 127.0.0.1:{port}"}}
    assert elapsed < 2


@pytest.fixture
async def hanging_up():
    """A v5 that accepts each connection and closes it at once; counts the connections."""
    accepted = []

    async def hang_up(reader, writer):
        accepted.append(1)
        await reader.read(1)
        writer.close()

    server = await asyncio.start_server(hang_up, "127.0.0.1", 0)
    yield server.sockets[0].getsockname()[1], accepted
    server.close()
    await server.wait_closed()


async def test_reads_are_retried_a_bounded_number_of_times(aiohttp_client, hanging_up):
    port, accepted = hanging_up
    client = await proxy_for(aiohttp_client, f"http://127.0.0.1:{port}", upstream_retries=2)
    response = await client.get("/api/v1/clients")
    assert response.status == 502
    # one try and two retries; aiohttp itself re-sends an idempotent request once on a new connection
    # when the server hung up (RFC 9112 §9.3.1: what a stale keep-alive connection looks like)
    assert len(accepted) == (1 + 2) * 2


async def test_writes_are_never_retried(aiohttp_client, hanging_up):
    port, accepted = hanging_up
    client = await proxy_for(aiohttp_client, f"http://127.0.0.1:{port}", upstream_retries=2)
    response = await client.post("/api/v1/products", json={"product_key": "X", "cost": 1})
    assert response.status == 502
    assert len(accepted) == 1


async def test_connections_to_v5_are_pooled_and_bounded(aiohttp_client, v5):
    client = await proxy_for(aiohttp_client, v5["url"], upstream_max_connections=2)
    for _ in range(3):
        assert (await client.get("/api/v1/tax_rates")).status == 200
    assert len(v5["connections"]) == 1  # sequential requests reuse one keep-alive connection

    statuses = await asyncio.gather(*(client.get("/api/v1/tax_rates") for _ in range(6)))
    assert [response.status for response in statuses] == [200] * 6
    assert v5["most_concurrent"] == 2
    assert len(v5["connections"]) == 2


async def test_the_whole_request_is_bounded_by_request_timeout(aiohttp_client, v5):
    client = await proxy_for(aiohttp_client, v5["url"], request_timeout=0.3)
    status, body, elapsed = await timed(client.get("/api/v1/clients"))
    assert status == 504
    assert body == {"error": {"message": "The request did not complete within 0.3 seconds"}}
    assert elapsed < 2


async def test_a_body_over_the_limit_gets_a_v4_shaped_413(aiohttp_client, v5):
    client = await proxy_for(aiohttp_client, v5["url"], max_body_size=2048)
    response = await client.post("/api/v1/products", json={"product_key": "X", "notes": "n" * 4096})
    assert response.status == 413
    assert await response.json() == {"error": {"message": "Request body is larger than the limit of 2048 bytes"}}
