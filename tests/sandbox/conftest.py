"""Fixtures: a seeded sandbox (tests/conftest.py's `sandbox_app`) served over a real socket."""

from __future__ import annotations

import pytest

from ninja_bridge.sandbox import SANDBOX_TOKEN

# What a well-behaved v5 client (the proxy) sends: v5 only answers JSON errors to such requests.
JSON_CLIENT = {"X-Requested-With": "XMLHttpRequest", "Accept": "application/json"}
AUTH = {"X-API-TOKEN": SANDBOX_TOKEN, **JSON_CLIENT}


@pytest.fixture
def app(sandbox_app):
    return sandbox_app


@pytest.fixture
def store(sandbox_store):
    return sandbox_store


@pytest.fixture
async def client(aiohttp_client, app):
    return await aiohttp_client(app, headers=AUTH)


@pytest.fixture
async def anonymous(aiohttp_client, app):
    """A JSON client without a token."""
    return await aiohttp_client(app, headers=JSON_CLIENT)


@pytest.fixture
async def browser(aiohttp_client, app):
    """A client with the token that does not ask for JSON (no X-Requested-With, Accept */*)."""
    return await aiohttp_client(app, headers={"X-API-TOKEN": SANDBOX_TOKEN})
