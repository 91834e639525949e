"""The v5 client: one pooled keep-alive session, bounded timeouts, v4-shaped failures.

Every v5 call carries the headers v5 needs to answer in JSON (v5-api.md §2.4). Connection
failures of idempotent requests are retried a bounded number of times; writes never are, since
v5 would reject a replay inside one second as a duplicate anyway (v5-api.md §2.6).
"""

from __future__ import annotations

import asyncio
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Any, AsyncIterator, Mapping

import aiohttp
import orjson
import yarl

from . import errors
from .config import Settings
from .metrics import (UPSTREAM_BAD_ANSWER, UPSTREAM_CONNECTION, UPSTREAM_SERVER_ERROR, UPSTREAM_TIMEOUT, Metrics,
                      UpstreamTimer)
from .observability import debug_enabled, log, redact, redact_text

IDEMPOTENT = frozenset({"GET", "HEAD", "OPTIONS", "PUT", "DELETE"})
RETRY_DELAY = 0.05


@dataclass
class UpstreamResponse:
    status: int
    headers: Mapping[str, str]
    body: Any  # parsed JSON, or None when the answer was not JSON

    @property
    def ok(self) -> bool:
        return 200 <= self.status < 300


class Upstream:
    def __init__(self, settings: Settings, metrics: Metrics | None = None) -> None:
        self.metrics = metrics
        self.probe_timeout = aiohttp.ClientTimeout(total=settings.upstream_connect_timeout + 5,
                                                   sock_connect=settings.upstream_connect_timeout)
        self.base = settings.upstream_base
        self.retries = settings.upstream_retries
        self.timeout = aiohttp.ClientTimeout(
            total=settings.upstream_total_timeout,
            sock_connect=settings.upstream_connect_timeout,
            sock_read=settings.upstream_read_timeout,
        )
        self.max_connections = settings.upstream_max_connections
        self._session: aiohttp.ClientSession | None = None

    async def start(self) -> None:
        connector = aiohttp.TCPConnector(limit=self.max_connections, keepalive_timeout=30)
        self._session = aiohttp.ClientSession(
            connector=connector, timeout=self.timeout)  # bodies go out already encoded (orjson)

    async def close(self) -> None:
        if self._session is not None:
            await self._session.close()
            self._session = None

    @staticmethod
    def headers(token: str | None, extra: Mapping[str, str] | None = None) -> dict[str, str]:
        headers = {"X-Requested-With": "XMLHttpRequest", "Accept": "application/json"}
        if token:
            headers["X-API-TOKEN"] = token
        if extra:
            headers.update(extra)
        return headers

    def url(self, path: str) -> str:
        return f"{self.base}/api/v1/{path.lstrip('/')}"

    async def request(self, method: str, path: str, *, token: str | None, query: Any = None,
                      json_body: Any = None, headers: Mapping[str, str] | None = None) -> UpstreamResponse:
        """One v5 call whose answer is read whole and parsed as JSON."""
        data = None if json_body is None else orjson.dumps(json_body)
        send_headers = self.headers(token, headers)
        if data is not None:
            send_headers["Content-Type"] = "application/json"
        async with self.open(method, path, headers=send_headers, query=query, data=data) as response:
            raw = await self._read(response)
        try:
            body = orjson.loads(raw) if raw else None
        except orjson.JSONDecodeError:
            body = raw.decode("utf-8", "replace") if raw else None
        return UpstreamResponse(response.status, response.headers, body)

    async def read_json(self, response: aiohttp.ClientResponse) -> Any:
        """The parsed body of an answer opened with `open` (None when it is not JSON)."""
        raw = await self._read(response)
        try:
            return orjson.loads(raw) if raw else None
        except orjson.JSONDecodeError:
            return None

    async def _read(self, response: aiohttp.ClientResponse) -> bytes:
        try:
            return await response.read()
        except asyncio.TimeoutError as exc:
            raise self._failed(UPSTREAM_TIMEOUT, self._timeout(exc)) from exc
        except aiohttp.ClientError as exc:
            raise self._failed(UPSTREAM_CONNECTION, errors.upstream_unreachable(type(exc).__name__)) from exc

    def _timeout(self, exc: BaseException) -> errors.V4Error:
        """The 504 naming the bound that was hit: connect, read (between bytes) or total."""
        if isinstance(exc, aiohttp.ConnectionTimeoutError):
            return errors.upstream_timeout(self.timeout.sock_connect, "accept a connection")
        if isinstance(exc, aiohttp.SocketTimeoutError):
            return errors.upstream_timeout(self.timeout.sock_read, "send anything")
        return errors.upstream_timeout(self.timeout.total)

    def _count_error(self, kind: str) -> None:
        if self.metrics is not None:
            self.metrics.upstream_errors.labels(kind=kind).inc()

    def _failed(self, kind: str, error: errors.V4Error) -> errors.V4Error:
        self._count_error(kind)
        return error

    async def probe(self) -> str | None:
        """None when v5 answers HTTP below 500 (no token is sent: v5's 403 counts), else what is wrong."""
        if self._session is None:
            return "the v5 client is not started"
        try:
            async with self._session.get(self.url("ping"), headers=self.headers(None), allow_redirects=False,
                                         timeout=self.probe_timeout) as response:
                if response.status >= 500:
                    return f"v5 answered {response.status}"
                return None
        except asyncio.TimeoutError:
            return "v5 did not answer in time"
        except (aiohttp.ClientError, OSError) as exc:
            return f"v5 cannot be reached: {_describe(exc)}"

    @asynccontextmanager
    async def open(self, method: str, path: str, *, headers: Mapping[str, str], query: Any = None,
                   data: Any = None) -> AsyncIterator[aiohttp.ClientResponse]:
        """A v5 call whose answer the caller reads (or streams) itself; failures become V4Errors."""
        if self._session is None:
            raise errors.upstream_unavailable("the proxy is not started")
        attempts = 1 + (self.retries if method in IDEMPOTENT and not _is_stream(data) else 0)
        if debug_enabled():
            url = str(yarl.URL(self.url(path)).update_query(query or {}))
            log.debug("upstream_call", method=method, url=redact_text(url), headers=redact(dict(headers)))
        for attempt in range(attempts):
            timer = UpstreamTimer(self.metrics, method)
            try:
                response = await self._session.request(method, self.url(path), params=query, data=data,
                                                       headers=headers, allow_redirects=False)
            except asyncio.TimeoutError as exc:
                timer.stop()
                raise self._failed(UPSTREAM_TIMEOUT, self._timeout(exc)) from exc
            except (aiohttp.ClientConnectionError, OSError) as exc:
                timer.stop()
                if attempt + 1 < attempts:
                    await asyncio.sleep(RETRY_DELAY * (attempt + 1))
                    continue
                raise self._failed(UPSTREAM_CONNECTION, errors.upstream_unreachable(_describe(exc))) from exc
            except aiohttp.ClientError as exc:
                timer.stop()
                raise self._failed(UPSTREAM_BAD_ANSWER, errors.upstream_bad_answer(_describe(exc))) from exc
            if response.status >= 500:
                self._count_error(UPSTREAM_SERVER_ERROR)
            try:
                yield response
            finally:
                response.release()
                timer.stop()
            return


def _is_stream(data: Any) -> bool:
    return data is not None and not isinstance(data, (bytes, str))


def _describe(exc: BaseException) -> str:
    if isinstance(exc, aiohttp.ClientConnectorError):
        return f"cannot connect to {exc.host}:{exc.port}"
    return type(exc).__name__
