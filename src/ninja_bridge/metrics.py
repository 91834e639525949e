"""Prometheus metrics, one registry per application (tests run many applications in one process).

Label values are bounded: routes are v4 route templates (never raw paths), upstream calls are
labelled by method only, error kinds come from a fixed list.
"""

from __future__ import annotations

import time
from contextvars import ContextVar
from dataclasses import dataclass
from typing import Iterator, Protocol

from aiohttp import web
from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, Counter, Gauge, Histogram, generate_latest
from prometheus_client.core import CounterMetricFamily

# Upstream error kinds, for ninja_bridge_upstream_errors_total{kind}.
UPSTREAM_TIMEOUT = "timeout"
UPSTREAM_CONNECTION = "connection"  # refused, reset, closed: the call could not be made or finished
UPSTREAM_BAD_ANSWER = "bad_answer"  # an answer that is not HTTP, or not what the proxy can use
UPSTREAM_SERVER_ERROR = "server_error"  # v5 answered 5xx

LATENCY_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60)


class Metrics:
    def __init__(self) -> None:
        self.registry = CollectorRegistry(auto_describe=True)
        r = self.registry
        self.requests = Counter("ninja_bridge_requests", "Client requests answered, by v4 route template and status",
                                ["method", "route", "status"], registry=r)
        self.request_duration = Histogram(
            "ninja_bridge_request_duration_seconds", "Time to answer a client request, by v4 route template",
            ["method", "route"], buckets=LATENCY_BUCKETS, registry=r)
        self.in_flight = Gauge("ninja_bridge_requests_in_flight", "Client requests being handled now", registry=r)
        self.upstream_duration = Histogram(
            "ninja_bridge_upstream_request_duration_seconds", "Time of each call to the v5 server, by method",
            ["method"], buckets=LATENCY_BUCKETS, registry=r)
        self.upstream_errors = Counter(
            "ninja_bridge_upstream_errors", "Failed calls to the v5 server, by kind "
            "(timeout, connection, bad_answer, server_error)", ["kind"], registry=r)
        self.translation_failures = Counter(
            "ninja_bridge_translation_failures", "Requests or answers that could not be translated, by stage "
            "(request: the v4 body; response: the v5 answer)", ["stage"], registry=r)

    def watch_idmap(self, translator: "IdMapCounts") -> None:
        """Expose the id map's lookups: found in the map (hit) or left to the native scheme (miss)."""
        self.registry.register(_IdMapCollector(translator))

    def exposition(self) -> bytes:
        return generate_latest(self.registry)


class IdMapCounts(Protocol):
    hits: int
    misses: int


class _IdMapCollector:
    def __init__(self, counts: IdMapCounts) -> None:
        self.counts = counts

    def collect(self) -> Iterator[CounterMetricFamily]:
        family = CounterMetricFamily("ninja_bridge_idmap_lookups", "Id-map lookups, by result (hit, miss)",
                                     labels=["result"])
        family.add_metric(["hit"], self.counts.hits)
        family.add_metric(["miss"], self.counts.misses)
        yield family


METRICS = web.AppKey("metrics", Metrics)


async def metrics_handler(request: web.Request) -> web.Response:
    body = request.app[METRICS].exposition()
    return web.Response(body=body, headers={"Content-Type": CONTENT_TYPE_LATEST})


@dataclass
class UpstreamClock:
    """The v5 calls one client request made: how many and how long in all (for the access log)."""

    calls: int = 0
    seconds: float = 0.0


# Set by the request middleware; the v5 client adds each call to it. Tasks started by a handler
# (fan-out calls) copy the context, and share this same object.
current_upstream_clock: ContextVar[UpstreamClock | None] = ContextVar("upstream_clock", default=None)


class UpstreamTimer:
    """Times one v5 call into the histogram and the current request's clock."""

    def __init__(self, metrics: Metrics | None, method: str) -> None:
        self.metrics = metrics
        self.method = method
        self.started = time.perf_counter()

    def stop(self) -> None:
        elapsed = time.perf_counter() - self.started
        if self.metrics is not None:
            self.metrics.upstream_duration.labels(method=self.method).observe(elapsed)
        clock = current_upstream_clock.get()
        if clock is not None:
            clock.calls += 1
            clock.seconds += elapsed
