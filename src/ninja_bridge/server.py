"""Running the proxy as a process: listen with the configured limits, stop gracefully on a signal.

On SIGTERM (or SIGINT) the proxy fails readiness at once and keeps serving, so that the
orchestrator takes it out of rotation while requests already accepted finish: it waits
`shutdown_delay` seconds, then until no request is in flight, all within `shutdown_grace`
seconds of the signal. Then it closes the listening socket, cuts what is still running and
exits 0. A second signal stops waiting.
"""

from __future__ import annotations

import asyncio
import signal

from aiohttp import web

from .config import Settings
from .health import LIFECYCLE
from .observability import log

STOP_SIGNALS = (signal.SIGTERM, signal.SIGINT)
CUT_TIMEOUT = 0.5  # after the grace period: how long aiohttp waits for handlers before cancelling them


def runner_for(app: web.Application, settings: Settings) -> web.AppRunner:
    return web.AppRunner(
        app, access_log=None, shutdown_timeout=CUT_TIMEOUT,
        # header limits (aiohttp answers 400 itself past them, before any handler runs)
        max_line_size=settings.max_header_size, max_field_size=settings.max_header_size,
    )


async def serve(app: web.Application, settings: Settings) -> None:
    signals = StopSignals()  # before listening: a SIGTERM right after start-up is a graceful stop too
    runner = runner_for(app, settings)
    await runner.setup()
    try:
        site = web.TCPSite(runner, settings.host, settings.port)
        await site.start()
        log.info("listening", address=[f"{host}:{port}" for host, port, *_ in runner.addresses],
                 upstream=settings.upstream_base)
        await signals.first.wait()
        await drain(app, settings, signals.again)
    finally:
        await runner.cleanup()
    log.info("stopped")


class StopSignals:
    """SIGTERM and SIGINT handled on the running loop: `first` is set by the first, `again` by any later one."""

    def __init__(self) -> None:
        self.first, self.again = asyncio.Event(), asyncio.Event()
        loop = asyncio.get_running_loop()
        for sig in STOP_SIGNALS:
            loop.add_signal_handler(sig, self._received)

    def _received(self) -> None:
        (self.again if self.first.is_set() else self.first).set()


async def drain(app: web.Application, settings: Settings, again: asyncio.Event) -> None:
    lifecycle = app[LIFECYCLE]
    lifecycle.stopping = True
    log.info("stopping", in_flight=lifecycle.in_flight, grace_seconds=settings.shutdown_grace)

    async def wait_then_drain() -> None:
        await asyncio.sleep(settings.shutdown_delay)
        await lifecycle.wait_idle()

    waiting = asyncio.ensure_future(wait_then_drain())
    interrupted = asyncio.ensure_future(again.wait())
    done, _ = await asyncio.wait({waiting, interrupted}, timeout=settings.shutdown_grace,
                                 return_when=asyncio.FIRST_COMPLETED)
    waiting.cancel()
    interrupted.cancel()
    if lifecycle.in_flight:
        log.warning("shutdown_cut", in_flight=lifecycle.in_flight,
                    reason="second signal" if interrupted in done else "grace period over")
