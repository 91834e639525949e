"""The id map as the running proxy uses it: loaded and checked at start, reloaded while serving.

A reload builds a complete new :class:`IdMap` off the event loop, checks it, and only then swaps it
into the translator in one assignment; requests in flight keep the map they started with, so none
is dropped or sees half a map. A map that fails the checks is logged and ignored: the proxy keeps
serving with the last good one. Reloads happen when the store's version marker changes (a stat of
the SQLite file, or one tiny query on PostgreSQL, every ``idmap_poll_interval`` seconds) or at once
on SIGHUP.
"""

from __future__ import annotations

import asyncio
import contextlib
import signal
from ..observability import log
from .codec import HashidCodec
from .idmap import IdMap, IdMapError, MappedIdTranslator
from .stores import IdMapStore, StoredMap

# The salt check decodes each v5 id (~30 us); at start-up a sample catches a wrong salt fast.
SALT_SAMPLE = 200


class IdMapConfigError(Exception):
    """The configured map cannot be used safely; the message says why and what to do."""


def checked_map(stored: StoredMap, description: str, codec: HashidCodec, wanted_base: int | None) -> IdMap:
    if stored.native_base is None:
        raise IdMapConfigError(f"the id map at {description} is empty: build it with `ninja-bridge idmap build` "
                               "or `ninja-bridge idmap import`")
    if wanted_base is not None and wanted_base != stored.native_base:
        raise IdMapConfigError(
            f"native_id_base is {wanted_base} but the id map at {description} was built for "
            f"{stored.native_base}: records created after cut-over would change their v4 ids")
    sample = [pair.v5_id for pair in stored.pairs[:SALT_SAMPLE]]
    if sample and all(codec.decode(v5_id) is None for v5_id in sample):
        raise IdMapConfigError(f"no v5 id in the id map at {description} decodes with the configured "
                               "hash_salt: the map belongs to another v5 server or the salt is wrong")
    try:
        return IdMap.build(stored.pairs, stored.native_base)
    except IdMapError as exc:
        raise IdMapConfigError(f"{description}: {exc}") from exc


def load_translator(store: IdMapStore, codec: HashidCodec, wanted_base: int | None = None) -> MappedIdTranslator:
    try:
        stored = store.load()
    except Exception as exc:  # a missing file, a refused connection: say which store and why
        raise IdMapConfigError(f"cannot read the id map at {store.description}: {exc}") from exc
    return MappedIdTranslator(checked_map(stored, store.description, codec, wanted_base), codec)


class IdMapReloader:
    """Keeps a MappedIdTranslator in step with its store (start/stop from the app's hooks)."""

    def __init__(self, store: IdMapStore, translator: MappedIdTranslator, interval: float) -> None:
        self.store = store
        self.translator = translator
        self.interval = interval
        self.reloads = 0  # maps swapped in
        self.rejections = 0  # maps refused (the last good one kept)
        self._wake = asyncio.Event()
        self._task: asyncio.Task | None = None
        self._version: object = None
        self._signal = False

    def request_reload(self) -> None:
        self._wake.set()

    async def readiness(self, app: object) -> str | None:
        """The /readyz check: a map is loaded and the store is being watched."""
        if self._task is None or self._task.done():
            return "the id map is not being watched for changes"
        return None

    async def start(self) -> None:
        self._version = await asyncio.to_thread(self.store.version)
        loop = asyncio.get_running_loop()
        with contextlib.suppress(NotImplementedError, RuntimeError, ValueError):  # not the main thread
            loop.add_signal_handler(signal.SIGHUP, self.request_reload)
            self._signal = True
        self._task = asyncio.create_task(self._run(), name="idmap-reloader")

    async def stop(self) -> None:
        if self._signal:
            asyncio.get_running_loop().remove_signal_handler(signal.SIGHUP)
            self._signal = False
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None
        await asyncio.to_thread(self.store.close)

    async def _run(self) -> None:
        while True:
            with contextlib.suppress(asyncio.TimeoutError):
                await asyncio.wait_for(self._wake.wait(), self.interval)
            forced = self._wake.is_set()
            self._wake.clear()
            try:
                version = await asyncio.to_thread(self.store.version)
                if forced or version != self._version:
                    await self.reload(version)
            except Exception as exc:  # the store is briefly unreachable: keep serving the last good map
                log.error("idmap_reload_failed", store=self.store.description, error=str(exc))

    async def reload(self, version: object) -> None:
        stored = await asyncio.to_thread(self.store.load)
        codec = self.translator.codec
        try:
            idmap = await asyncio.to_thread(checked_map, stored, self.store.description, codec,
                                            self.translator.idmap.native_base)
            self.translator.replace(idmap)
        except (IdMapConfigError, IdMapError) as exc:
            self._version = version  # do not retry the same bad map every poll
            self.rejections += 1
            log.error("idmap_rejected", store=self.store.description, error=str(exc))
            return
        self._version = version
        self.reloads += 1
        log.info("idmap_reloaded", store=self.store.description, pairs=len(idmap))
