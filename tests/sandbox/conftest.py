"""Fixtures: a seeded sandbox served over a real socket by pytest-aiohttp."""

from __future__ import annotations

import pytest

from ninja_bridge.sandbox import SANDBOX_TOKEN, create_app

AUTH = {"X-API-TOKEN": SANDBOX_TOKEN, "X-Requested-With": "XMLHttpRequest"}


@pytest.fixture
def app():
    return create_app(token=SANDBOX_TOKEN, hash_salt="", seed=True)


@pytest.fixture
def store(app):
    return app["store"]


@pytest.fixture
async def client(aiohttp_client, app):
    return await aiohttp_client(app, headers=AUTH)


@pytest.fixture
async def anonymous(aiohttp_client, app):
    return await aiohttp_client(app)
