"""`ninja-bridge sandbox --migrated`: the migrated account's v5 API and its pre-migration v4 API."""

from __future__ import annotations

import asyncio
import os
import re
import subprocess
import sys
from pathlib import Path

import aiohttp

SRC = str(Path(__file__).resolve().parents[1] / "src")


async def get_json(session: aiohttp.ClientSession, url: str, headers: dict) -> dict:
    for _ in range(100):  # the banner is printed just before the servers listen
        try:
            async with session.get(url, headers=headers) as response:
                assert response.status == 200, await response.text()
                return await response.json()
        except aiohttp.ClientConnectionError:
            await asyncio.sleep(0.1)
    raise AssertionError(f"{url} never answered")


async def test_sandbox_migrated_serves_both_sides(unused_tcp_port_factory):
    v5_port, v4_port = unused_tcp_port_factory(), unused_tcp_port_factory()
    process = subprocess.Popen(
        [sys.executable, "-m", "ninja_bridge.cli", "sandbox", "--migrated", "--port", str(v5_port),
         "--v4-port", str(v4_port)],
        stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True, env={**os.environ, "PYTHONPATH": SRC})
    try:
        banner = [process.stdout.readline(), process.stdout.readline()]
        v5_token = re.search(r"X-API-TOKEN: (\w+)", banner[0]).group(1)
        v4_token = re.search(r"X-Ninja-Token: (\w+)", banner[1]).group(1)
        async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=10)) as session:
            v4 = await get_json(session, f"http://127.0.0.1:{v4_port}/api/v1/clients", {"X-Ninja-Token": v4_token})
            v5 = await get_json(session, f"http://127.0.0.1:{v5_port}/api/v1/clients",
                                {"X-API-TOKEN": v5_token, "X-Requested-With": "XMLHttpRequest"})
        assert [client["id"] for client in v4["data"]] == [1, 2, 3, 4, 5]
        assert {c["name"] for c in v4["data"]} == {c["name"] for c in v5["data"]}
        northwind = next(c for c in v5["data"] if c["name"] == "Northwind Traders")
        assert northwind["number"] == "NW-1001" and northwind["id_number"] == ""  # as the migration left it
    finally:
        process.terminate()
        process.wait(timeout=10)
