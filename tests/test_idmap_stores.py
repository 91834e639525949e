"""The id map stores: SQLite (a file) and PostgreSQL (a real server the fixture starts)."""

from __future__ import annotations

import psycopg
import pytest

from ninja_bridge.ids.idmap import IdPair
from ninja_bridge.ids.live import IdMapConfigError, load_translator
from ninja_bridge.ids.stores import PostgresIdMapStore, SqliteIdMapStore, open_store


@pytest.fixture(params=["sqlite", "postgres"])
def store(request, tmp_path):
    if request.param == "sqlite":
        yield open_store(tmp_path / "map.sqlite3")
        return
    dsn = request.getfixturevalue("postgres_dsn")
    with psycopg.connect(dsn, autocommit=True) as connection:  # each test starts from an empty map
        connection.execute("DROP TABLE IF EXISTS id_map, id_map_meta")
    store = open_store(dsn)
    yield store
    store.close()


def pairs_for(codec, *rows):
    return [IdPair(space, v4, kind, codec.encode(key)) for space, v4, kind, key in rows]


def test_open_store_picks_the_backend(tmp_path):
    assert isinstance(open_store(tmp_path / "m.sqlite3"), SqliteIdMapStore)
    pg = open_store("postgresql://user:secret@db.example:5433/maps")
    assert isinstance(pg, PostgresIdMapStore)
    assert "secret" not in pg.description and "db.example:5433/maps" in pg.description


def test_save_load_and_replace(store, codec):
    first = pairs_for(codec, ("client", 1, "client", 101), ("invoice", 1, "invoice", 201), ("invoice", 2, "quote", 201))
    store.save(first, 5000)
    loaded = store.load()
    assert sorted(loaded.pairs) == sorted(first) and loaded.native_base == 5000
    before = store.version()
    second = pairs_for(codec, ("client", 1, "client", 9101))  # a re-migration: every v5 id new
    store.save(second, 5000)
    assert store.load().pairs == second
    assert store.version() != before


def test_the_store_enforces_uniqueness_too(store, codec):
    duplicate = pairs_for(codec, ("client", 1, "client", 101), ("client", 1, "client", 102))
    with pytest.raises(Exception):
        store.save(duplicate, 5000)
    with pytest.raises(Exception):
        store.save(pairs_for(codec, ("client", 1, "client", 101), ("client", 2, "client", 101)), 5000)


def test_replicas_reading_one_store_agree(store, codec):
    store.save(pairs_for(codec, ("client", 4, "client", 777), ("product", 4, "product", 778)), 5000)
    replica_a = load_translator(open_store(_location(store)), codec)
    replica_b = load_translator(open_store(_location(store)), codec)
    for ids in (replica_a, replica_b):
        assert ids.to_v5("client", 4) == codec.encode(777)
        assert ids.to_v4("client", codec.encode(31)) == 5000 + 31  # native: stateless, same everywhere


def test_an_empty_or_missing_map_refuses_to_start(store, tmp_path, codec):
    with pytest.raises(IdMapConfigError) as caught:
        load_translator(store, codec)
    assert "empty" in str(caught.value) or "cannot read" in str(caught.value)


def test_a_map_for_another_salt_refuses_to_start(store, codec):
    from ninja_bridge.ids.codec import HashidCodec

    store.save(pairs_for(HashidCodec("another salt"), ("client", 1, "client", 101)), 5000)
    with pytest.raises(IdMapConfigError) as caught:
        load_translator(store, codec)
    assert "hash_salt" in str(caught.value)


def test_a_native_base_other_than_the_maps_refuses_to_start(store, codec):
    store.save(pairs_for(codec, ("client", 1, "client", 101)), 5000)
    with pytest.raises(IdMapConfigError) as caught:
        load_translator(store, codec, wanted_base=6000)
    assert "built for 5000" in str(caught.value)


def _location(store) -> str:
    return store.dsn if isinstance(store, PostgresIdMapStore) else str(store.path)


def test_a_stored_map_that_breaks_an_invariant_refuses_to_start(store, codec):
    store.save(pairs_for(codec, ("client", 1, "client", 101), ("client", 5000, "client", 102)), 5000)
    with pytest.raises(IdMapConfigError) as caught:
        load_translator(store, codec)
    assert "inside the native range" in str(caught.value)


def test_serve_refuses_to_start_and_says_why(tmp_path, codec):
    from click.testing import CliRunner

    from ninja_bridge.cli import main

    store = open_store(tmp_path / "map.sqlite3")
    store.save(pairs_for(codec, ("client", 2**31, "client", 101)), 5000)
    result = CliRunner().invoke(main, ["serve", "--upstream", "http://127.0.0.1:9", "--idmap", str(store.path)])
    assert result.exit_code == 2
    assert "refusing to start" in result.output and "2^31-1" in result.output
