"""Shared fixtures: mappings, plans and ids; the proxy in front of the sandbox; real processes;
the coverage report of v4 routes; a throwaway PostgreSQL server."""

from __future__ import annotations

import asyncio
import json
import os
import signal
import sys
from pathlib import Path

import pytest

from ninja_bridge.app import create_app
from ninja_bridge.config import load_settings
from ninja_bridge.ids.codec import HashidCodec
from ninja_bridge.ids.translator import SchemeIdTranslator
from ninja_bridge.sandbox import SANDBOX_TOKEN
from ninja_bridge.sandbox import create_app as create_sandbox
from ninja_bridge.translate.plan import PlanSet
from ninja_bridge.translate.spec import load_mappings
from ninja_bridge.translate.structural import COMPUTED, known_functions


@pytest.fixture(scope="session")
def mappings():
    return load_mappings(known_functions=known_functions())


@pytest.fixture(scope="session")
def codec():
    return HashidCodec("")


@pytest.fixture(scope="session")
def ids(codec):
    return SchemeIdTranslator(codec)


@pytest.fixture(scope="session")
def plans(mappings, ids):
    plans = PlanSet(mappings, ids, COMPUTED)
    plans.compile_all()
    return plans


# -- end to end: a v4 client -> the proxy -> the sandbox, all over real loopback sockets -------


V4_AUTH = {"X-Ninja-Token": SANDBOX_TOKEN}


@pytest.fixture
def sandbox_app():
    return create_sandbox(token=SANDBOX_TOKEN, hash_salt="", seed=True)


@pytest.fixture
def sandbox_store(sandbox_app):
    return sandbox_app["store"]


@pytest.fixture
async def sandbox_server(aiohttp_server, sandbox_app):
    return await aiohttp_server(sandbox_app, host="127.0.0.1")


@pytest.fixture
def proxy_settings(sandbox_server):
    upstream = str(sandbox_server.make_url("")).rstrip("/")
    return load_settings(upstream=upstream, upstream_total_timeout=10, upstream_read_timeout=5)


@pytest.fixture
async def proxy(aiohttp_client, proxy_settings):
    """A client of the proxy that sends the v4 token on every request."""
    return await aiohttp_client(create_app(proxy_settings), headers=V4_AUTH)


@pytest.fixture
async def anonymous_proxy(aiohttp_client, proxy_settings):
    return await aiohttp_client(create_app(proxy_settings))


# -- docs/coverage.md: which end-to-end tests cover which v4 route -------------------------------


ROUTE_REPORT_ENV = "NINJA_BRIDGE_ROUTE_REPORT"


def pytest_collection_modifyitems(session, config, items):
    """With NINJA_BRIDGE_ROUTE_REPORT set, write {v4 route: [test ids]} from the v4_route marks."""
    target = os.environ.get(ROUTE_REPORT_ENV)
    if not target:
        return
    report: dict[str, list[str]] = {}
    for item in items:
        for mark in item.iter_markers("v4_route"):
            report.setdefault(mark.args[0], []).append(item.nodeid)
    with open(target, "w", encoding="utf-8") as handle:
        json.dump(report, handle)


# -- real processes: `ninja-bridge serve` started as the container starts it --------------------


PROCESS_START_TIMEOUT = 15.0
SRC_DIR = Path(__file__).resolve().parents[1] / "src"


class BridgeProcess:
    """A running `ninja-bridge serve`: its URL, its exit code, and every log line it wrote (JSON)."""

    def __init__(self, proc: asyncio.subprocess.Process) -> None:
        self.proc = proc
        self.lines: list[dict] = []
        self.url = ""
        self._listening = asyncio.Event()
        self._reader = asyncio.ensure_future(self._read_logs())

    async def _read_logs(self) -> None:
        async for raw in self.proc.stderr:
            text = raw.decode(errors="replace").strip()
            try:
                line = json.loads(text)
            except ValueError:
                line = {"event": "(not json)", "text": text}
            self.lines.append(line)
            if line.get("event") == "listening":
                self.url = "http://" + line["address"][0]
                self._listening.set()
        self._listening.set()

    async def started(self) -> "BridgeProcess":
        await asyncio.wait_for(self._listening.wait(), PROCESS_START_TIMEOUT)
        if not self.url:
            raise AssertionError(f"the proxy did not start: {self.lines}")
        return self

    def terminate(self) -> None:
        self.proc.send_signal(signal.SIGTERM)

    async def exit_code(self, timeout: float) -> int:
        code = await asyncio.wait_for(self.proc.wait(), timeout)
        await self._reader
        return code

    def events(self, name: str) -> list[dict]:
        return [line for line in self.lines if line.get("event") == name]


@pytest.fixture
async def start_bridge():
    """Starts `<command> serve` on 127.0.0.1 and a free port, settings from NINJA_BRIDGE_* only."""
    started: list[BridgeProcess] = []

    async def start(settings: dict[str, str], command: list[str] | None = None,
                    python_path: str | None = str(SRC_DIR)) -> BridgeProcess:
        env = {key: value for key, value in os.environ.items() if not key.startswith("NINJA_BRIDGE_")}
        env.pop("PYTHONPATH", None)
        if python_path:
            env["PYTHONPATH"] = python_path
        env.update({"NINJA_BRIDGE_HOST": "127.0.0.1", "NINJA_BRIDGE_PORT": "0", "NINJA_BRIDGE_LOG_FORMAT": "json"})
        env.update({f"NINJA_BRIDGE_{key.upper()}": str(value) for key, value in settings.items()})
        argv = (command or [sys.executable, "-m", "ninja_bridge.cli"]) + ["serve"]
        proc = await asyncio.create_subprocess_exec(*argv, env=env, stdin=asyncio.subprocess.DEVNULL,
                                                    stdout=asyncio.subprocess.DEVNULL,
                                                    stderr=asyncio.subprocess.PIPE)
        bridge = BridgeProcess(proc)
        started.append(bridge)
        return await bridge.started()

    yield start
    for bridge in started:
        if bridge.proc.returncode is None:
            bridge.proc.kill()
            await bridge.proc.wait()
        bridge._reader.cancel()


# -- a real PostgreSQL server for the id map's PostgreSQL backend -------------------------------

@pytest.fixture(scope="session")
def postgres_dsn():
    from postgres_server import postgres_cluster

    with postgres_cluster() as dsn:
        yield dsn
