"""Shared fixtures: the mappings, compiled plans and an id translator with the default salt."""

from __future__ import annotations

import pytest

from ninja_bridge.ids.codec import HashidCodec
from ninja_bridge.ids.translator import SchemeIdTranslator
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

from ninja_bridge.app import create_app  # noqa: E402
from ninja_bridge.config import load_settings  # noqa: E402
from ninja_bridge.sandbox import SANDBOX_TOKEN  # noqa: E402
from ninja_bridge.sandbox import create_app as create_sandbox  # noqa: E402

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

import json  # noqa: E402
import os  # noqa: E402

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
