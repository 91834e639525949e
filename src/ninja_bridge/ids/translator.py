"""The v4<->v5 id translator: one interface, several strategies behind it.

v4 ids are integers that live in *v4 id spaces* (one per v4 table). v5 ids are hashed primary keys
of *v5 kinds* (one per v5 table). The spaces and kinds line up one to one except for v4's
``invoices`` table, which held invoices, quotes and recurring invoices: three v5 kinds share the
``invoice`` v4 space, so their v4 ids must be kept apart (invariant 2 of the design).
"""

from __future__ import annotations

from typing import Protocol

from .codec import HashidCodec

V4_ID_MAX = 2**31 - 1  # legacy databases keep v4 ids in signed 32-bit INT columns

# v5 kinds that share a v4 id space with another kind: kind -> v4 space.
SHARED_SPACES: dict[str, str] = {"quote": "invoice", "recurring_invoice": "invoice"}

# Kinds whose hashed ids name global lookup rows (designs), never account records: never mapped.
STATIC_KINDS = frozenset({"design"})


def space_of(kind: str) -> str:
    """The v4 id space a v5 kind's records are shown in."""
    return SHARED_SPACES.get(kind, kind)


class IdError(ValueError):
    """An id that cannot be translated (undecodable, out of range, unknown)."""


class IdTranslator(Protocol):
    """Translates ids between v4 integers and v5 hashed ids, both directions, for any kind."""

    def to_v4(self, kind: str, v5_id: str) -> int: ...

    def to_v5(self, kind: str, v4_id: int) -> str: ...

    def locate(self, space: str, v4_id: int) -> tuple[str, str]:
        """The v5 kind and hashed id of the record a v4 id names in a v4 space."""
        ...


# The plain scheme shares the v4 ``invoice`` space by giving each kind its own window of the
# 32-bit range: invoices keep v4 id = v5 key, quotes and recurring invoices are offset.
def kind_windows(base: int = 0) -> dict[str, tuple[int, int]]:
    """(first v4 id, size) of each kind's window in [base, 2^31-1]: invoices take the first half of
    the shared invoice space, quotes the next quarter, recurring invoices the rest."""
    room = V4_ID_MAX + 1 - base
    half, quarter = room // 2, room // 4
    return {
        "invoice": (base, half),
        "quote": (base + half, quarter),
        "recurring_invoice": (base + half + quarter, room - half - quarter - 1),
    }


KIND_WINDOWS: dict[str, tuple[int, int]] = kind_windows(0)


class SchemeIdTranslator:
    """Stateless: the v4 id of a record is derived from its v5 primary key alone.

    ``base`` moves the whole scheme up the 32-bit range; the id map uses that to keep records created
    in v5 after cut-over ("native" records) above every mapped legacy id.
    """

    def __init__(self, codec: HashidCodec, base: int = 0) -> None:
        self.codec = codec
        self.base = base
        self.windows = kind_windows(base)
        self.default_window = (base, V4_ID_MAX + 1 - base)

    def window(self, kind: str) -> tuple[int, int]:
        return self.windows.get(kind, self.default_window)

    def to_v4(self, kind: str, v5_id: str) -> int:
        key = self.codec.decode(v5_id)
        if key is None:
            raise IdError(f"not a valid v5 id for {kind}: {v5_id!r}")
        if kind in STATIC_KINDS:
            return key
        offset, size = self.window(kind)
        if key >= size or offset + key > V4_ID_MAX:
            raise IdError(f"v5 {kind} key {key} does not fit the 32-bit v4 id range")
        return offset + key

    def to_v5(self, kind: str, v4_id: int) -> str:
        if kind in STATIC_KINDS:
            return self.codec.encode(v4_id)
        offset, size = self.window(kind)
        key = v4_id - offset
        if not 0 < key < size:
            raise IdError(f"{v4_id} is not a {kind} id")
        return self.codec.encode(key)

    def locate(self, space: str, v4_id: int) -> tuple[str, str]:
        for kind in kinds_in_space(space):
            offset, size = self.window(kind)
            if offset < v4_id < offset + size:
                return kind, self.codec.encode(v4_id - offset)
        raise IdError(f"{v4_id} is not a valid {space} id")


def kinds_in_space(space: str) -> list[str]:
    return [space] + [kind for kind, shared in SHARED_SPACES.items() if shared == space]
