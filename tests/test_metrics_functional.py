"""Prometheus /metrics, scraped over HTTP, after real requests through the proxy to the sandbox."""

from __future__ import annotations

import asyncio
import socket

from aiohttp import web
from prometheus_client.parser import text_string_to_metric_families

from ninja_bridge.app import create_app
from ninja_bridge.config import load_settings

from ninja_bridge.sandbox import SANDBOX_TOKEN

V4_AUTH = {"X-Ninja-Token": SANDBOX_TOKEN}


async def scrape(client) -> dict[tuple[str, tuple], float]:
    """Every sample of /metrics, keyed by (name, sorted labels)."""
    response = await client.get("/metrics")
    assert response.status == 200
    assert response.headers["Content-Type"].startswith("text/plain; version=")
    samples = {}
    for family in text_string_to_metric_families(await response.text()):
        for sample in family.samples:
            samples[(sample.name, tuple(sorted(sample.labels.items())))] = sample.value
    return samples


def value(samples, name: str, **labels) -> float:
    return samples.get((name, tuple(sorted(labels.items()))), 0.0)


async def test_requests_are_counted_by_v4_route_template_and_status(proxy, sandbox_store):
    for _ in range(3):
        listed = await proxy.get("/api/v1/clients")
        assert listed.status == 200
    first = (await listed.json())["data"][0]["id"]
    assert (await proxy.get(f"/api/v1/clients/{first}")).status == 200
    assert (await proxy.get("/api/v1/clients/999999")).status == 404
    samples = await scrape(proxy)
    assert value(samples, "ninja_bridge_requests_total", method="GET", route="/api/v1/clients", status="200") == 3
    assert value(samples, "ninja_bridge_requests_total", method="GET", route="/api/v1/clients/{id}",
                 status="200") == 1
    assert value(samples, "ninja_bridge_requests_total", method="GET", route="/api/v1/clients/{id}",
                 status="404") == 1
    # the whole request, and every v5 call it made, in latency histograms
    assert value(samples, "ninja_bridge_request_duration_seconds_count", method="GET",
                 route="/api/v1/clients") == 3
    assert value(samples, "ninja_bridge_upstream_request_duration_seconds_count", method="GET") >= 5
    assert value(samples, "ninja_bridge_upstream_request_duration_seconds_bucket", method="GET", le="+Inf") >= 5


async def test_unknown_paths_share_one_label_instead_of_one_series_each(proxy):
    for n in range(3):
        await proxy.get(f"/nothing/{n}")
        await proxy.get(f"/api/v1/unknown{n}")
    samples = await scrape(proxy)
    assert value(samples, "ninja_bridge_requests_total", method="GET", route="unmatched", status="404") == 3
    assert value(samples, "ninja_bridge_requests_total", method="GET", route="/api/v1/{tail}", status="404") == 3
    assert not any("nothing" in str(labels) for _, labels in samples)


async def test_upstream_errors_are_counted_by_kind(aiohttp_client, aiohttp_server):
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        dead = sock.getsockname()[1]
    client = await aiohttp_client(create_app(load_settings(upstream=f"http://127.0.0.1:{dead}",
                                                           upstream_retries=0)), headers=V4_AUTH)
    assert (await client.get("/api/v1/clients")).status == 502

    async def slow(request):
        await asyncio.sleep(2)
        return web.json_response({})

    async def failing(request):
        return web.json_response({"message": "Server Error"}, status=500)

    v5 = web.Application()
    v5.router.add_get("/api/v1/clients", slow)
    v5.router.add_get("/api/v1/products", failing)
    server = await aiohttp_server(v5, host="127.0.0.1")
    slow_client = await aiohttp_client(create_app(load_settings(
        upstream=str(server.make_url("")), upstream_read_timeout=0.2)), headers=V4_AUTH)
    assert (await slow_client.get("/api/v1/clients")).status == 504
    assert (await slow_client.get("/api/v1/products")).status == 500

    assert value(await scrape(client), "ninja_bridge_upstream_errors_total", kind="connection") == 1
    samples = await scrape(slow_client)
    assert value(samples, "ninja_bridge_upstream_errors_total", kind="timeout") == 1
    assert value(samples, "ninja_bridge_upstream_errors_total", kind="server_error") == 1
    assert value(samples, "ninja_bridge_upstream_errors_total", kind="connection") == 0  # per-app registries


async def test_translation_failures_are_counted(proxy):
    response = await proxy.post("/api/v1/invoices", json={"client_id": "not a number"})
    assert response.status == 422
    samples = await scrape(proxy)
    assert value(samples, "ninja_bridge_translation_failures_total", stage="request") == 1
    assert value(samples, "ninja_bridge_translation_failures_total", stage="response") == 0


async def test_answers_that_cannot_be_translated_are_counted(aiohttp_client, aiohttp_server):
    async def foreign_ids(request):  # ids hashed with another salt than the proxy's
        return web.json_response({"data": [{"id": "!!not-a-hashid"}], "meta": {}})

    v5 = web.Application()
    v5.router.add_get("/api/v1/clients", foreign_ids)
    server = await aiohttp_server(v5, host="127.0.0.1")
    client = await aiohttp_client(create_app(load_settings(upstream=str(server.make_url("")))), headers=V4_AUTH)
    assert (await client.get("/api/v1/clients")).status == 502
    samples = await scrape(client)
    assert value(samples, "ninja_bridge_translation_failures_total", stage="response") == 1
    assert value(samples, "ninja_bridge_upstream_errors_total", kind="bad_answer") == 0  # v5 itself answered fine


async def test_requests_in_flight_are_gauged(aiohttp_client, aiohttp_server):
    release = asyncio.Event()

    async def held(request):
        await release.wait()
        return web.json_response({"data": [], "meta": {}})

    v5 = web.Application()
    v5.router.add_get("/api/v1/clients", held)
    server = await aiohttp_server(v5, host="127.0.0.1")
    client = await aiohttp_client(create_app(load_settings(upstream=str(server.make_url("")))), headers=V4_AUTH)
    waiting = [asyncio.ensure_future(client.get("/api/v1/clients")) for _ in range(2)]
    for _ in range(100):
        samples = await scrape(client)
        if value(samples, "ninja_bridge_requests_in_flight") >= 3:
            break
        await asyncio.sleep(0.02)
    assert value(samples, "ninja_bridge_requests_in_flight") == 3  # two held, plus the scrape itself
    release.set()
    assert [r.status for r in await asyncio.gather(*waiting)] == [200, 200]
    assert value(await scrape(client), "ninja_bridge_requests_in_flight") == 1


def test_idmap_lookups_are_counted_by_result():
    from prometheus_client.parser import text_string_to_metric_families

    from ninja_bridge.ids.codec import HashidCodec
    from ninja_bridge.ids.idmap import DEFAULT_NATIVE_BASE, IdMap, IdPair, MappedIdTranslator
    from ninja_bridge.metrics import Metrics

    codec = HashidCodec("")
    translator = MappedIdTranslator(IdMap.build([IdPair("client", 7, "client", codec.encode(101))],
                                                DEFAULT_NATIVE_BASE), codec)
    metrics = Metrics()
    metrics.watch_idmap(translator)
    assert translator.to_v4("client", codec.encode(101)) == 7  # mapped: a hit
    assert translator.to_v5("client", 7) == codec.encode(101)  # mapped: a hit
    translator.to_v4("client", codec.encode(102))  # created after cut-over: a miss
    samples = {(s.name, s.labels.get("result")): s.value
               for family in text_string_to_metric_families(metrics.exposition().decode()) for s in family.samples}
    assert samples[("ninja_bridge_idmap_lookups_total", "hit")] == 2
    assert samples[("ninja_bridge_idmap_lookups_total", "miss")] == 1
