"""The running proxy picks up a changed id map (file change or SIGHUP) without dropping a request."""

from __future__ import annotations

import asyncio
import os
import signal

from ninja_bridge.app import IDMAP_RELOADER, create_app
from ninja_bridge.config import load_settings
from ninja_bridge.ids.idmap import IdPair
from ninja_bridge.ids.stores import open_store
from ninja_bridge.sandbox import SANDBOX_TOKEN

NORTHWIND, BLUE_HARBOR = 101, 102  # the seeded sandbox's first two client keys
BASE = 5000


def save_map(path, codec, first: int, second: int, extra: list[IdPair] = ()) -> None:
    open_store(path).save([IdPair("client", 1, "client", codec.encode(first)),
                           IdPair("client", 2, "client", codec.encode(second)), *extra], BASE)


async def start_proxy(aiohttp_client, sandbox_server, path, interval: float):
    upstream = str(sandbox_server.make_url("")).rstrip("/")
    settings = load_settings(upstream=upstream, idmap=str(path), idmap_poll_interval=interval,
                             upstream_total_timeout=10)
    return await aiohttp_client(create_app(settings), headers={"X-Ninja-Token": SANDBOX_TOKEN})


async def name_of_client_1(proxy) -> str:
    response = await proxy.get("/api/v1/clients/1")
    assert response.status == 200, await response.text()
    return (await response.json())["data"]["name"]


async def until(predicate, timeout: float = 5.0) -> None:
    async with asyncio.timeout(timeout):
        while not await predicate():
            await asyncio.sleep(0.02)


async def hammer(proxy, stop: asyncio.Event, seen: list) -> None:
    """A legacy client that keeps asking; every answer is recorded (status, name)."""
    while not stop.is_set():
        response = await proxy.get("/api/v1/clients/1")
        body = await response.json()
        seen.append((response.status, body.get("data", {}).get("name")))


async def test_sighup_reloads_without_dropping_requests(aiohttp_client, sandbox_server, tmp_path, codec):
    path = tmp_path / "map.sqlite3"
    save_map(path, codec, NORTHWIND, BLUE_HARBOR)
    proxy = await start_proxy(aiohttp_client, sandbox_server, path, interval=3600)  # only the signal reloads
    reloader = proxy.server.app[IDMAP_RELOADER]
    assert await name_of_client_1(proxy) == "Northwind Traders"

    stop, seen = asyncio.Event(), []
    workers = [asyncio.create_task(hammer(proxy, stop, seen)) for _ in range(4)]
    await asyncio.sleep(0.2)
    save_map(path, codec, BLUE_HARBOR, NORTHWIND)  # an operator fixes the map
    os.kill(os.getpid(), signal.SIGHUP)

    async def reloaded() -> bool:
        return reloader.reloads == 1

    await until(reloaded)
    await asyncio.sleep(0.2)
    stop.set()
    await asyncio.gather(*workers)

    assert seen and all(status == 200 for status, _ in seen), {status for status, _ in seen}
    names = [name for _, name in seen]
    assert set(names) == {"Northwind Traders", "Blue Harbor Consulting"}
    switch = names.index("Blue Harbor Consulting")
    assert all(name == "Blue Harbor Consulting" for name in names[switch + 4:])  # at most the in-flight ones lag
    assert await name_of_client_1(proxy) == "Blue Harbor Consulting"


async def test_a_changed_file_is_noticed_by_polling(aiohttp_client, sandbox_server, tmp_path, codec):
    path = tmp_path / "map.sqlite3"
    save_map(path, codec, NORTHWIND, BLUE_HARBOR)
    proxy = await start_proxy(aiohttp_client, sandbox_server, path, interval=0.05)
    assert await name_of_client_1(proxy) == "Northwind Traders"
    save_map(path, codec, BLUE_HARBOR, NORTHWIND)

    async def switched() -> bool:
        return await name_of_client_1(proxy) == "Blue Harbor Consulting"

    await until(switched)


async def test_an_unsafe_new_map_is_ignored_and_the_last_good_one_kept(aiohttp_client, sandbox_server, tmp_path,
                                                                       codec):
    path = tmp_path / "map.sqlite3"
    save_map(path, codec, NORTHWIND, BLUE_HARBOR)
    proxy = await start_proxy(aiohttp_client, sandbox_server, path, interval=3600)
    reloader = proxy.server.app[IDMAP_RELOADER]
    # Breaks invariant 5's rules: a legacy id inside the native range.
    save_map(path, codec, BLUE_HARBOR, NORTHWIND, [IdPair("client", BASE + 7, "client", codec.encode(103))])
    reloader.request_reload()

    async def rejected() -> bool:
        return reloader.rejections == 1

    await until(rejected)
    assert reloader.reloads == 0
    assert await name_of_client_1(proxy) == "Northwind Traders"


async def test_the_reloader_stops_with_the_app(aiohttp_client, sandbox_server, tmp_path, codec):
    path = tmp_path / "map.sqlite3"
    save_map(path, codec, NORTHWIND, BLUE_HARBOR)
    proxy = await start_proxy(aiohttp_client, sandbox_server, path, interval=3600)
    reloader = proxy.server.app[IDMAP_RELOADER]
    task = reloader._task
    assert task is not None and not task.done()
    ready = await (await proxy.get("/readyz")).json()
    assert ready["checks"]["idmap"] == "ok"
    await proxy.close()
    assert task.done() and reloader._task is None


async def test_replicas_on_postgresql_pick_up_a_rebuilt_map(aiohttp_client, sandbox_server, postgres_dsn, codec):
    """Two proxies share one PostgreSQL map; a rebuild reaches both through the generation counter."""
    import psycopg

    with psycopg.connect(postgres_dsn, autocommit=True) as connection:
        connection.execute("DROP TABLE IF EXISTS id_map, id_map_meta")
    save_map(postgres_dsn, codec, NORTHWIND, BLUE_HARBOR)
    replicas = [await start_proxy(aiohttp_client, sandbox_server, postgres_dsn, interval=0.05) for _ in range(2)]
    for proxy in replicas:
        assert await name_of_client_1(proxy) == "Northwind Traders"
    save_map(postgres_dsn, codec, BLUE_HARBOR, NORTHWIND)
    for proxy in replicas:
        async def switched(proxy=proxy) -> bool:
            return await name_of_client_1(proxy) == "Blue Harbor Consulting"

        await until(switched)
