"""In-memory tables for the sandbox: records, primary keys and model events.

Records are plain dicts keyed by field name. Foreign keys are stored as raw integer primary keys
(or None), exactly as v5 keeps them in MySQL; hashing happens only when a record is rendered.
"""

from __future__ import annotations

import hashlib
import time
from typing import Any, Callable, Iterable, Iterator

from ninja_bridge.ids.codec import HashidCodec

Record = dict[str, Any]
EventListener = Callable[[str, str, Record], None]

# v5 primary keys are global across all companies of an instance, so the seeded company's rows do not
# start at 1. Each table gets its own offset; invoices, quotes, credits and recurring invoices share
# one on purpose, so their keys collide the way they can in a real v5 database.
TABLE_KEY_OFFSETS: dict[str, int] = {
    "companies": 7,
    "users": 11,
    "webhooks": 21,
    "expense_categories": 31,
    "task_statuses": 41,
    "tax_rates": 61,
    "clients": 101,
    "client_contacts": 151,
    "invoices": 201,
    "quotes": 201,
    "credits": 201,
    "recurring_invoices": 201,
    "invitations": 301,
    "payments": 401,
    "paymentables": 451,
    "products": 501,
    "tasks": 601,
    "projects": 651,
    "expenses": 701,
    "vendors": 751,
    "vendor_contacts": 781,
    "documents": 801,
    "payment_terms": 851,
}
DEFAULT_KEY_OFFSET = 901
# The keys just below each table's offset belong to other companies on the same v5 instance: route
# binding finds those rows (it has no company scope) and the policy then refuses them.
OTHER_COMPANY_ROWS = 20
MAX_KEY = 2**29
# What an undecodable hashed id in a request body turns into: present (so "required" passes) but
# matching no row (so "exists" fails), like the JsonResponse v5's decodePrimaryKey returns.
UNDECODABLE_KEY = -1


def stable_token(*parts: object, length: int = 32) -> str:
    """A deterministic stand-in for v5's Str::random keys (contact_key, invitation key, ...)."""
    digest = hashlib.sha256("/".join(str(part) for part in parts).encode()).hexdigest()
    while len(digest) < length:
        digest += hashlib.sha256(digest.encode()).hexdigest()
    return digest[:length]


# Lookups by these columns are served from an index. They must never change after a row is inserted:
# they link a row to its parent (an invoice's client may not change in v5; contacts stay with their client).
INDEXED_COLUMNS: dict[str, tuple[tuple[str, ...], ...]] = {
    "client_contacts": (("client_id",),),
    "vendor_contacts": (("vendor_id",),),
    "invitations": (("entity_type", "entity_id"),),
    "paymentables": (("payment_id",), ("paymentable_type", "paymentable_id")),
    "documents": (("documentable_type", "documentable_id"),),
    "invoices": (("client_id",),),
    "quotes": (("client_id",),),
    "credits": (("client_id",),),
    "recurring_invoices": (("client_id",),),
    "payments": (("client_id",),),
}


class Table:
    """One v5 table: an autoincrement key sequence, rows in insertion order, indexes on parent links."""

    def __init__(self, name: str, first_key: int) -> None:
        self.name = name
        self.next_key = first_key
        self.rows: dict[int, Record] = {}
        self.indexes: dict[tuple[str, ...], dict[tuple, dict[int, Record]]] = {
            columns: {} for columns in INDEXED_COLUMNS.get(name, ())
        }

    def insert(self, record: Record) -> Record:
        key = self.next_key
        if key >= MAX_KEY:
            raise OverflowError(f"table {self.name} ran out of sandbox keys")
        self.next_key += 1
        record["id"] = key
        self.rows[key] = record
        for columns, index in self.indexes.items():
            index.setdefault(tuple(record.get(c) for c in columns), {})[key] = record
        return record

    def get(self, key: object) -> Record | None:
        # JSON integers arrive as raw keys; anything else (floats, bools, strings) never matches a row.
        if type(key) is not int:
            return None
        return self.rows.get(key)

    def remove(self, key: int) -> None:
        record = self.rows.pop(key, None)
        if record is not None:
            for columns, index in self.indexes.items():
                index.get(tuple(record.get(c) for c in columns), {}).pop(key, None)

    def relink(self, record: Record, **changes: Any) -> None:
        """Changes indexed columns of a stored row (the one sanctioned way: it keeps the indexes right)."""
        key = record["id"]
        self.remove(key)
        record.update(changes)
        self.rows[key] = record
        for columns, index in self.indexes.items():
            index.setdefault(tuple(record.get(c) for c in columns), {})[key] = record
        # keep insertion order by key, as a database without ORDER BY would return them
        self.rows = dict(sorted(self.rows.items()))

    def where(self, **equals: Any) -> list[Record]:
        """Rows whose columns equal the given values, in insertion order."""
        candidates: Iterable[Record] = self.rows.values()
        for columns, index in self.indexes.items():
            if all(c in equals for c in columns):
                candidates = index.get(tuple(equals[c] for c in columns), {}).values()
                break
        return [row for row in candidates if all(row.get(k) == v for k, v in equals.items())]

    def __iter__(self) -> Iterator[Record]:
        return iter(list(self.rows.values()))

    def __len__(self) -> int:
        return len(self.rows)


class SandboxStore:
    """All sandbox state: tables, the id codec, the company and the model-event listeners.

    `events` is a list of callables invoked as listener(event_name, entity_kind, record) after a
    change is stored. event_name is one of "create", "update", "delete", "archive", "restore",
    "sent" (invoice/quote/credit marked sent) or "approve" (quote); entity_kind is the API path name
    ("invoices", "clients", ...); record is the stored dict (raw keys; render it for a payload).
    """

    def __init__(self, token: str, hash_salt: str = "", key_shift: int = 0) -> None:
        self.token = token
        self.key_shift = key_shift  # added to every table's first key: a "re-migrated" account gets new keys
        self.codec = HashidCodec(hash_salt)
        self.tables: dict[str, Table] = {}
        self.events: list[EventListener] = []
        self.company: Record = {}
        self.owner_user_key: int | None = None
        self.frozen_now: int | None = None
        self.recent_writes: dict[str, float] = {}
        self.pdf_size = 0  # default size of rendered PDFs (`?pdf_size=` overrides), for streaming tests
        self.password_confirmed_until = 0.0

    def belongs_to_other_company(self, table_name: str, key: object) -> bool:
        if type(key) is not int:
            return False
        first_own_key = TABLE_KEY_OFFSETS.get(table_name, DEFAULT_KEY_OFFSET) + self.key_shift
        return max(1, first_own_key - OTHER_COMPANY_ROWS) <= key < first_own_key

    def table(self, name: str) -> Table:
        if name not in self.tables:
            self.tables[name] = Table(name, TABLE_KEY_OFFSETS.get(name, DEFAULT_KEY_OFFSET) + self.key_shift)
        return self.tables[name]

    def now(self) -> int:
        """Unix time; the seed freezes it so the sample data is the same on every start."""
        return self.frozen_now if self.frozen_now is not None else int(time.time())

    def encode(self, key: int | None) -> str:
        return "" if key is None else self.codec.encode(key)

    def decode(self, value: object) -> object:
        """Decode a request id the way v5's Request::decodePrimaryKeys does.

        Only strings are decoded; any other JSON value (an integer, say) passes through untouched
        and is then used as a raw primary key. "" is null; an undecodable string is UNDECODABLE_KEY.
        """
        if isinstance(value, str):
            if not value:
                return None
            key = self.codec.decode(value)
            return UNDECODABLE_KEY if key is None else key
        return value

    def is_repeat(self, fingerprint: str, window: float = 1.0) -> bool:
        """True when the same write was seen less than `window` seconds ago (v5 caches it for 1 s)."""
        moment = time.monotonic()
        self.recent_writes = {k: t for k, t in self.recent_writes.items() if moment - t < window}
        if fingerprint in self.recent_writes:
            return True
        self.recent_writes[fingerprint] = moment
        return False

    def confirm_password(self, window: float = 30 * 60) -> None:
        """Remember a password check, as v5 caches it (default_password_timeout, 30 minutes)."""
        self.password_confirmed_until = time.monotonic() + window

    def password_recently_confirmed(self) -> bool:
        return time.monotonic() < self.password_confirmed_until

    def emit(self, event_name: str, entity_kind: str, record: Record) -> None:
        for listener in list(self.events):
            listener(event_name, entity_kind, record)
