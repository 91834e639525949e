"""Where the id map is kept: one SQLite file (default, embedded) or a PostgreSQL database (fleets).

Both keep the same two tables and offer the same four calls: ``load`` (every pair and the native
base), ``save`` (replace the whole map in one transaction, so readers see the old map or the new one),
``version`` (a cheap marker that changes whenever the map does, polled by the reloader) and ``close``.
"""

from __future__ import annotations

import os
import sqlite3
from dataclasses import dataclass
from pathlib import Path
from typing import Iterable, Protocol
from urllib.parse import urlsplit

from .idmap import IdPair

SCHEMA = [
    """CREATE TABLE IF NOT EXISTS id_map (
        space TEXT NOT NULL, v4_id BIGINT NOT NULL, kind TEXT NOT NULL, v5_id TEXT NOT NULL,
        PRIMARY KEY (space, v4_id), UNIQUE (kind, v5_id))""",
    "CREATE TABLE IF NOT EXISTS id_map_meta (name TEXT PRIMARY KEY, value TEXT NOT NULL)",
]


@dataclass
class StoredMap:
    pairs: list[IdPair]
    native_base: int | None  # None: nothing saved yet


class IdMapStore(Protocol):
    description: str  # for messages: never contains a password

    def load(self) -> StoredMap: ...

    def save(self, pairs: Iterable[IdPair], native_base: int) -> None: ...

    def version(self) -> object: ...

    def close(self) -> None: ...


def is_postgres(location: str) -> bool:
    return location.startswith(("postgresql://", "postgres://"))


def open_store(location: str | os.PathLike[str]) -> IdMapStore:
    location = str(location)
    if is_postgres(location):
        return PostgresIdMapStore(location)
    return SqliteIdMapStore(Path(location))


class SqliteIdMapStore:
    """One SQLite file; the proxy notices changes by the file's stat, no query needed."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.description = str(path)

    def _connect(self) -> sqlite3.Connection:
        connection = sqlite3.connect(self.path, timeout=10)
        connection.execute("PRAGMA journal_mode=DELETE")  # every commit touches the main file's mtime
        for statement in SCHEMA:
            connection.execute(statement)
        return connection

    def load(self) -> StoredMap:
        if not self.path.exists():
            raise FileNotFoundError(f"no id map at {self.path}")
        connection = self._connect()
        try:
            rows = connection.execute("SELECT space, v4_id, kind, v5_id FROM id_map").fetchall()
            base = connection.execute("SELECT value FROM id_map_meta WHERE name = 'native_base'").fetchone()
        finally:
            connection.close()
        return StoredMap([IdPair(*row) for row in rows], int(base[0]) if base else None)

    def save(self, pairs: Iterable[IdPair], native_base: int) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        connection = self._connect()
        try:
            with connection:
                connection.execute("DELETE FROM id_map")
                connection.executemany("INSERT INTO id_map (space, v4_id, kind, v5_id) VALUES (?, ?, ?, ?)",
                                       ((p.space, p.v4_id, p.kind, p.v5_id) for p in pairs))
                connection.execute("INSERT OR REPLACE INTO id_map_meta (name, value) VALUES ('native_base', ?)",
                                   (str(native_base),))
        finally:
            connection.close()

    def version(self) -> object:
        try:
            stat = self.path.stat()
        except FileNotFoundError:
            return None
        return stat.st_mtime_ns, stat.st_size, stat.st_ino

    def close(self) -> None:
        pass


class PostgresIdMapStore:
    """A PostgreSQL database shared by many proxies; a generation counter marks each save."""

    def __init__(self, dsn: str) -> None:
        self.dsn = dsn
        parts = urlsplit(dsn)
        self.description = f"postgresql://{parts.hostname or ''}{':' + str(parts.port) if parts.port else ''}{parts.path}"
        self._poll = None  # a connection kept for the cheap version() polls

    def _connect(self):
        try:
            import psycopg  # optional dependency: only PostgreSQL users need it
        except ImportError:
            raise RuntimeError("a PostgreSQL id map needs psycopg: pip install 'ninja-bridge[postgres]'") from None
        connection = psycopg.connect(self.dsn, connect_timeout=10)
        with connection.transaction():
            for statement in SCHEMA:
                connection.execute(statement)
        return connection

    def load(self) -> StoredMap:
        with self._connect() as connection:
            with connection.transaction():  # one snapshot: pairs and base agree
                rows = connection.execute("SELECT space, v4_id, kind, v5_id FROM id_map").fetchall()
                base = connection.execute("SELECT value FROM id_map_meta WHERE name = 'native_base'").fetchone()
        return StoredMap([IdPair(*row) for row in rows], int(base[0]) if base else None)

    def save(self, pairs: Iterable[IdPair], native_base: int) -> None:
        with self._connect() as connection:
            with connection.transaction():
                connection.execute("LOCK TABLE id_map IN EXCLUSIVE MODE")  # one writer at a time
                connection.execute("DELETE FROM id_map")
                with connection.cursor().copy("COPY id_map (space, v4_id, kind, v5_id) FROM STDIN") as copy:
                    for p in pairs:
                        copy.write_row((p.space, p.v4_id, p.kind, p.v5_id))
                connection.execute(
                    "INSERT INTO id_map_meta (name, value) VALUES ('native_base', %s) "
                    "ON CONFLICT (name) DO UPDATE SET value = EXCLUDED.value", (str(native_base),))
                connection.execute(
                    "INSERT INTO id_map_meta (name, value) VALUES ('generation', '1') "
                    "ON CONFLICT (name) DO UPDATE SET value = (id_map_meta.value::bigint + 1)::text")

    def version(self) -> object:
        try:
            if self._poll is None or self._poll.closed:
                self._poll = self._connect()
                self._poll.autocommit = True
            row = self._poll.execute("SELECT value FROM id_map_meta WHERE name = 'generation'").fetchone()
        except Exception:
            self.close()  # reconnect on the next poll
            raise
        return row[0] if row else None

    def close(self) -> None:
        if self._poll is not None:
            self._poll.close()
            self._poll = None
