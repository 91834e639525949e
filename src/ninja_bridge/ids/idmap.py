"""The id map of a migrated account and the translator that consults it first.

A migrated account's legacy records keep the v4 ids the legacy systems stored: the map pairs each
(v4 id space, v4 id) with the (v5 kind, v5 hashed id) the migration gave the record. Records created
in v5 after cut-over ("native" records) are not in the map; they are shown through the plain scheme
moved up to ``native_base``, a fixed point above every mapped id, so the two never meet:

    mapped legacy ids      1 .. native_base-1      looked up in the map (two dicts, O(1))
    native records         native_base .. 2^31-1   derived from the v5 key, stateless

Everything here is pure and in memory; stores (SQLite, PostgreSQL) and reloading live elsewhere.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Iterable

from .codec import HashidCodec
from .translator import STATIC_KINDS, V4_ID_MAX, IdError, SchemeIdTranslator, kind_windows, space_of

DEFAULT_NATIVE_BASE = 2**30
# The smallest window a kind may get above native_base: below this the native range is too small
# to hold the keys of a real v5 server.
MIN_NATIVE_WINDOW = 2**20


@dataclass(frozen=True, order=True)
class IdPair:
    """One mapped record: v4 (space, id) <-> v5 (kind, hashed id)."""

    space: str
    v4_id: int
    kind: str
    v5_id: str


class IdMapError(ValueError):
    """A map (or native base) that would break the id invariants; lists every problem found."""

    def __init__(self, problems: list[str]) -> None:
        shown = problems[:20] + ([f"... and {len(problems) - 20} more"] if len(problems) > 20 else [])
        super().__init__("the id map is unsafe to use:\n  " + "\n  ".join(shown))
        self.problems = problems


def check_native_base(native_base: int) -> list[str]:
    """Room above native_base for every kind's window (invoice space: a quarter each for quotes
    and recurring invoices)."""
    if not 1 < native_base <= V4_ID_MAX:
        return [f"native id base {native_base} must be between 2 and {V4_ID_MAX}"]
    smallest = min(size for _, size in kind_windows(native_base).values())
    if smallest < MIN_NATIVE_WINDOW:
        return [f"native id base {native_base} leaves only {smallest} ids for native quotes and recurring "
                f"invoices (need at least {MIN_NATIVE_WINDOW}); choose a lower base"]
    return []


def pair_problems(pairs: Iterable[IdPair], native_base: int, codec: HashidCodec | None = None) -> list[str]:
    """Every way these pairs would break invariants 1, 2 or 4 with this native base.

    With a codec, each v5 id must also decode under the v5 server's HASH_SALT (a map built for
    another salt names nothing); that costs ~30 us an id, so it is done when a map is written.
    """
    problems = check_native_base(native_base)
    by_v4: dict[tuple[str, int], IdPair] = {}
    by_v5: dict[tuple[str, str], IdPair] = {}
    for pair in pairs:
        where = f"{pair.space} {pair.v4_id} <-> {pair.kind} {pair.v5_id}"
        if pair.kind in STATIC_KINDS:
            problems.append(f"{where}: {pair.kind} ids are global lookups and are never mapped")
        if space_of(pair.kind) != pair.space:
            problems.append(f"{where}: a {pair.kind} lives in the v4 {space_of(pair.kind)} id space, "
                            f"not {pair.space}")
        if not isinstance(pair.v4_id, int) or pair.v4_id < 1:
            problems.append(f"{where}: v4 ids are positive integers")
        elif pair.v4_id > V4_ID_MAX:
            problems.append(f"{where}: v4 id is over 2^31-1 and does not fit a signed 32-bit column")
        elif pair.v4_id >= native_base:
            problems.append(f"{where}: v4 id is inside the native range (>= {native_base}), where records "
                            "created after cut-over get their ids; lower the ids or raise the native base")
        if not pair.v5_id:
            problems.append(f"{where}: empty v5 id")
        elif codec is not None and codec.decode(pair.v5_id) is None:
            problems.append(f"{where}: the v5 id does not decode with this HASH_SALT")
        previous = by_v4.setdefault((pair.space, pair.v4_id), pair)
        if previous is not pair:
            problems.append(f"{where}: v4 id {pair.v4_id} is already mapped in the {pair.space} space to "
                            f"{previous.kind} {previous.v5_id} (one v4 id, two records)")
        previous = by_v5.setdefault((pair.kind, pair.v5_id), pair)
        if previous is not pair:
            problems.append(f"{where}: {pair.kind} {pair.v5_id} already has v4 id {previous.v4_id} "
                            "(one record, two v4 ids)")
    return problems


@dataclass(frozen=True)
class IdMap:
    """An immutable, validated snapshot of the map, indexed both ways for O(1) lookups."""

    native_base: int
    v5_of: dict[tuple[str, int], tuple[str, str]] = field(default_factory=dict)
    v4_of: dict[tuple[str, str], int] = field(default_factory=dict)

    @classmethod
    def build(cls, pairs: Iterable[IdPair], native_base: int = DEFAULT_NATIVE_BASE,
              codec: HashidCodec | None = None) -> "IdMap":
        pairs = list(pairs)
        problems = pair_problems(pairs, native_base, codec)
        if problems:
            raise IdMapError(problems)
        return cls(
            native_base=native_base,
            v5_of={(p.space, p.v4_id): (p.kind, p.v5_id) for p in pairs},
            v4_of={(p.kind, p.v5_id): p.v4_id for p in pairs},
        )

    def __len__(self) -> int:
        return len(self.v5_of)


class MappedIdTranslator:
    """The map first, then the native scheme above ``native_base`` (an IdTranslator).

    ``idmap`` is swapped whole by :meth:`replace` (a reload); a lookup reads the attribute once, so
    it sees either the old map or the new one, never a mix.
    """

    def __init__(self, idmap: IdMap, codec: HashidCodec) -> None:
        self.codec = codec
        self.idmap = idmap
        self.native = SchemeIdTranslator(codec, base=idmap.native_base)
        # Plain counters, read by the metrics at scrape time: cheaper than a metric per id.
        self.hits = 0  # ids found in the map (legacy records)
        self.misses = 0  # ids left to the native scheme (records created after cut-over)

    def replace(self, idmap: IdMap) -> None:
        if idmap.native_base != self.idmap.native_base:
            # Every native record would change its v4 id under the legacy systems' feet.
            raise IdMapError([f"the native id base changed from {self.idmap.native_base} to "
                              f"{idmap.native_base}; restart deliberately if that is really meant"])
        self.idmap = idmap

    def to_v4(self, kind: str, v5_id: str) -> int:
        if kind in STATIC_KINDS:  # designs: never mapped, and the scheme's base does not apply to them
            return self.native.to_v4(kind, v5_id)
        mapped = self.idmap.v4_of.get((kind, v5_id))
        if mapped is not None:
            self.hits += 1
            return mapped
        self.misses += 1
        return self.native.to_v4(kind, v5_id)

    def to_v5(self, kind: str, v4_id: int) -> str:
        if kind in STATIC_KINDS:
            return self.native.to_v5(kind, v4_id)
        found_kind, v5_id = self.locate(space_of(kind), v4_id)
        if found_kind != kind:
            raise IdError(f"{v4_id} is a {found_kind} id, not a {kind} id")
        return v5_id

    def locate(self, space: str, v4_id: int) -> tuple[str, str]:
        idmap = self.idmap
        if v4_id < idmap.native_base:
            found = idmap.v5_of.get((space, v4_id))
            if found is None:
                raise IdError(f"no {space} has the legacy id {v4_id}")
            self.hits += 1
            return found
        self.misses += 1
        kind, v5_id = self.native.locate(space, v4_id)
        if (kind, v5_id) in idmap.v4_of:
            # A mapped record answers to its legacy id only: one record, one v4 id (round trip).
            raise IdError(f"{v4_id} is not a valid {space} id")
        return kind, v5_id
