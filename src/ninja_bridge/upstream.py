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

from . import errors
from .config import Settings

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
    def __init__(self, settings: Settings) -> None:
        self.base = settings.upstream_base
        self.retries = settings.upstream_retries
        self.total_timeout = settings.upstream_total_timeout
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
            connector=connector, timeout=self.timeout, json_serialize=lambda v: orjson.dumps(v).decode(),
            auto_decompress=True,
        )

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
            raise errors.upstream_timeout(self.total_timeout) from exc
        except aiohttp.ClientError as exc:
            raise errors.upstream_unreachable(type(exc).__name__) from exc

    @asynccontextmanager
    async def open(self, method: str, path: str, *, headers: Mapping[str, str], query: Any = None,
                   data: Any = None) -> AsyncIterator[aiohttp.ClientResponse]:
        """A v5 call whose answer the caller reads (or streams) itself; failures become V4Errors."""
        if self._session is None:
            raise errors.upstream_unavailable("the proxy is not started")
        attempts = 1 + (self.retries if method in IDEMPOTENT and not _is_stream(data) else 0)
        for attempt in range(attempts):
            try:
                response = await self._session.request(method, self.url(path), params=query, data=data,
                                                       headers=headers, allow_redirects=False)
            except asyncio.TimeoutError as exc:
                raise errors.upstream_timeout(self.total_timeout) from exc
            except (aiohttp.ClientConnectionError, OSError) as exc:
                if attempt + 1 < attempts:
                    await asyncio.sleep(RETRY_DELAY * (attempt + 1))
                    continue
                raise errors.upstream_unreachable(_describe(exc)) from exc
            except aiohttp.ClientError as exc:
                raise errors.upstream_bad_answer(_describe(exc)) from exc
            try:
                yield response
            finally:
                response.release()
            return


def _is_stream(data: Any) -> bool:
    return data is not None and not isinstance(data, (bytes, str))


def _describe(exc: BaseException) -> str:
    if isinstance(exc, aiohttp.ClientConnectorError):
        return f"cannot connect to {exc.host}:{exc.port}"
    return type(exc).__name__
