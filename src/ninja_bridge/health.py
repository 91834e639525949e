"""Health endpoints, outside /api/v1: `/healthz` (the process is alive) and `/readyz` (it should
get traffic: not shutting down, v5 reachable, every registered check passing).

Other parts of the proxy add their own readiness checks to `app[READINESS_CHECKS]`: a name and an
async function of the app that returns None when ready, or a short reason when not (the id map
registers one, for instance). Checks run on every /readyz; keep them cheap (the v5 probe below is
cached for `readiness_cache` seconds so that orchestrators probing every second do not load v5).
"""

from __future__ import annotations

import asyncio
import time
from typing import Awaitable, Callable

from aiohttp import web

from .proxy import json_response

ReadinessCheck = Callable[[web.Application], Awaitable[str | None]]

READINESS_CHECKS = web.AppKey("readiness_checks", dict[str, ReadinessCheck])


class Lifecycle:
    """Whether the proxy is stopping, and how many client requests it is handling."""

    def __init__(self) -> None:
        self.stopping = False
        self.in_flight = 0
        self._idle = asyncio.Event()
        self._idle.set()

    def request_started(self) -> None:
        self.in_flight += 1
        self._idle.clear()

    def request_finished(self) -> None:
        self.in_flight -= 1
        if self.in_flight == 0:
            self._idle.set()

    async def wait_idle(self) -> None:
        await self._idle.wait()


LIFECYCLE = web.AppKey("lifecycle", Lifecycle)


class CachedProbe:
    """The result of an async probe, reused for `ttl` seconds; concurrent callers share one probe."""

    def __init__(self, probe: Callable[[], Awaitable[str | None]], ttl: float) -> None:
        self.probe = probe
        self.ttl = ttl
        self._checked_at = float("-inf")
        self._result: str | None = None
        self._lock = asyncio.Lock()

    async def __call__(self, app: web.Application) -> str | None:
        async with self._lock:
            if time.monotonic() - self._checked_at >= self.ttl:
                self._result = await self.probe()
                self._checked_at = time.monotonic()
            return self._result


async def healthz(request: web.Request) -> web.Response:
    return json_response(200, {"status": "ok"})


async def readyz(request: web.Request) -> web.Response:
    app = request.app
    if app[LIFECYCLE].stopping:
        return json_response(503, {"status": "stopping", "checks": {}})
    names = list(app[READINESS_CHECKS])
    results = await asyncio.gather(*(app[READINESS_CHECKS][name](app) for name in names), return_exceptions=True)
    checks = {name: _outcome(result) for name, result in zip(names, results)}
    ready = all(outcome == "ok" for outcome in checks.values())
    return json_response(200 if ready else 503, {"status": "ready" if ready else "not ready", "checks": checks})


def _outcome(result: object) -> str:
    if isinstance(result, BaseException):
        return f"check failed: {type(result).__name__}: {result}"
    return result if isinstance(result, str) and result else "ok"


def add_health_routes(app: web.Application) -> None:
    app.router.add_get("/healthz", healthz)
    app.router.add_get("/readyz", readyz)
