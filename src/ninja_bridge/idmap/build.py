"""Rebuilding the id map from the natural keys that survived the migration.

For each kind, a list of *key stages* (migration-mapping.md §0): a stage turns a v4 record and a v5
record into comparable keys; a key shared by exactly one record on each side is a match. A key shared
by more than one record on either side is *ambiguous*: all of them are reported and none is mapped
(a later stage never gets to guess between them). Records whose key is empty or unmatched go on to
the next stage; whatever is left at the end is reported as unmatched on its side.

Kinds are matched in dependency order, so keys can use foreign keys already mapped (a project is its
name plus its client's v5 id). The result is a complete, fresh map: rebuilding after a forced
re-migration (every v5 id new again) replaces every old pair.
"""

from __future__ import annotations

import json
from collections import defaultdict
from dataclasses import dataclass, field
from typing import Any, Callable

from ..ids.idmap import IdPair
from ..ids.translator import space_of
from .sources import Records

Key = Any  # a hashable, or None/"" for "this record has no key at this stage"
KeyFunction = Callable[[dict, "Links"], Key]


class Links:
    """The v4 -> v5 ids matched so far, for keys that go through a foreign key."""

    def __init__(self) -> None:
        self.v5: dict[tuple[str, int], str] = {}

    def __call__(self, kind: str, v4_id: Any) -> str | None:
        try:
            return self.v5.get((kind, int(v4_id)))
        except (TypeError, ValueError):
            return None


def text(value: Any) -> str:
    return str(value or "").strip()


def lower(value: Any) -> str:
    return text(value).lower()


def money(value: Any) -> float | None:
    try:
        return round(float(value), 2)
    except (TypeError, ValueError):
        return None


def emails(record: dict) -> tuple[str, ...]:
    return tuple(sorted(lower(c.get("email")) for c in record.get("contacts") or [] if c.get("email")))


def _all(*parts: Any) -> tuple | None:
    """A composite key, or None when any part is missing."""
    return None if any(part in (None, "") for part in parts) else tuple(parts)


def _frequency_v5(value: Any) -> str:
    return str(int(value) + 1) if text(value).isdigit() else ""  # migration-mapping §3.5: v5 = v4 + 1


def _first_start(time_log: Any) -> int | None:
    """The start of a task's first time-log entry (v4: [[start, end]], v5 adds a note and a flag)."""
    try:
        entries = time_log if isinstance(time_log, list) else json.loads(time_log or "[]")
        return int(entries[0][0])
    except (ValueError, TypeError, IndexError, KeyError):
        return None


def _paid_invoice(record: dict) -> str:
    for link in record.get("paymentables") or []:
        if link.get("invoice_id"):
            return link["invoice_id"]
    return ""


# kind -> stages of (v4 key, v5 key); order matters: foreign keys must be mapped before use.
STAGES: dict[str, list[tuple[KeyFunction, KeyFunction]]] = {
    "user": [(lambda r, l: lower(r.get("email") or r.get("username")), lambda r, l: lower(r.get("email")))],
    "client": [
        (lambda r, l: text(r.get("id_number")), lambda r, l: text(r.get("number"))),
        (lambda r, l: _all(lower(r.get("name")), emails(r) or None),
         lambda r, l: _all(lower(r.get("name")), emails(r) or None)),
    ],
    "contact": [(lambda r, l: text(r.get("contact_key")), lambda r, l: text(r.get("contact_key")))],
    "vendor": [
        (lambda r, l: text(r.get("id_number")), lambda r, l: text(r.get("number"))),
        (lambda r, l: lower(r.get("name")), lambda r, l: lower(r.get("name"))),
    ],
    "product": [(lambda r, l: text(r.get("product_key")), lambda r, l: text(r.get("product_key")))],
    "tax_rate": [(lambda r, l: _all(text(r.get("name")), money(r.get("rate"))),
                  lambda r, l: _all(text(r.get("name")), money(r.get("rate"))))],
    "expense_category": [(lambda r, l: lower(r.get("name")), lambda r, l: lower(r.get("name")))],
    "invoice": [(lambda r, l: text(r.get("invoice_number")), lambda r, l: text(r.get("number")))],
    "quote": [(lambda r, l: text(r.get("invoice_number")), lambda r, l: text(r.get("number")))],
    "credit": [(lambda r, l: text(r.get("credit_number")), lambda r, l: text(r.get("number")))],
    # No number survives for recurring invoices (GMR:767): client, amount and frequency.
    "recurring_invoice": [
        (lambda r, l: _all(l("client", r.get("client_id")), money(r.get("amount")), _frequency_v5(r.get("frequency_id"))),
         lambda r, l: _all(text(r.get("client_id")), money(r.get("amount")), text(r.get("frequency_id")))),
    ],
    "invitation": [(lambda r, l: text(r.get("key")), lambda r, l: text(r.get("key")))],
    "project": [(lambda r, l: _all(lower(r.get("name")), l("client", r.get("client_id"))),
                 lambda r, l: _all(lower(r.get("name")), text(r.get("client_id"))))],
    # No key survives for expenses and tasks (§0): what they were, when, for whom.
    "expense": [
        (lambda r, l: _all(text(r.get("expense_date")), money(r.get("amount")), l("vendor", r.get("vendor_id")) or "-",
                           l("client", r.get("client_id")) or "-"),
         lambda r, l: _all(text(r.get("date")), money(r.get("amount")), text(r.get("vendor_id")) or "-",
                           text(r.get("client_id")) or "-")),
    ],
    "task": [
        (lambda r, l: _all(lower(r.get("description")), l("client", r.get("client_id")) or "-",
                           _first_start(r.get("time_log"))),
         lambda r, l: _all(lower(r.get("description")), text(r.get("client_id")) or "-",
                           _first_start(r.get("time_log")))),
    ],
    # v5 renumbered payments: the paid invoice, amount, date and reference together.
    "payment": [
        (lambda r, l: _all(l("invoice", r.get("invoice_id")), money(r.get("amount")), text(r.get("payment_date")),
                           text(r.get("transaction_reference")) or "-"),
         lambda r, l: _all(_paid_invoice(r), money(r.get("amount")), text(r.get("date")),
                           text(r.get("transaction_reference")) or "-")),
    ],
}
ORDER = list(STAGES)  # dict order is the dependency order above

# How each side's records are shown in the report.
V4_LABELS = {"client": ("name", "id_number"), "contact": ("email", "contact_key"), "vendor": ("name", "id_number"),
             "product": ("product_key",), "tax_rate": ("name", "rate"), "expense_category": ("name",),
             "invoice": ("invoice_number",), "quote": ("invoice_number",), "credit": ("credit_number",),
             "recurring_invoice": ("client_id", "amount", "frequency_id"), "invitation": ("key",),
             "project": ("name",), "payment": ("invoice_id", "amount", "payment_date"), "user": ("email",),
             "expense": ("expense_date", "amount"), "task": ("description",)}
V5_LABELS = {kind: tuple({"id_number": "number", "invoice_number": "number", "credit_number": "number",
                          "payment_date": "date", "expense_date": "date"}.get(f, f) for f in fields) for kind, fields in V4_LABELS.items()}


@dataclass
class Ambiguity:
    key: Any
    v4: list[tuple[int, str]]
    v5: list[tuple[str, str]]


@dataclass
class EntityReport:
    kind: str
    matched: list[tuple[int, str]] = field(default_factory=list)
    unmatched_v4: list[tuple[int, str]] = field(default_factory=list)
    unmatched_v5: list[tuple[str, str]] = field(default_factory=list)
    ambiguous: list[Ambiguity] = field(default_factory=list)
    v4_without_id: int = 0

    def as_dict(self) -> dict:
        return {
            "kind": self.kind, "matched": len(self.matched), "v4_without_id": self.v4_without_id,
            "unmatched_v4": [{"v4_id": i, "record": d} for i, d in self.unmatched_v4],
            "unmatched_v5": [{"v5_id": i, "record": d} for i, d in self.unmatched_v5],
            "ambiguous": [{"key": repr(a.key), "v4": [{"v4_id": i, "record": d} for i, d in a.v4],
                           "v5": [{"v5_id": i, "record": d} for i, d in a.v5]} for a in self.ambiguous],
        }


@dataclass
class BuildResult:
    pairs: list[IdPair]
    reports: list[EntityReport]


def _label(record: dict, fields: tuple[str, ...]) -> str:
    return ", ".join(f"{name}={record.get(name)!r}" for name in fields if record.get(name) not in (None, ""))


def _v4_id(record: dict) -> int | None:
    value = record.get("id")
    if isinstance(value, bool):
        return None
    try:
        number = int(value)
    except (TypeError, ValueError):
        return None
    return number if number > 0 else None


def match_kind(kind: str, v4_rows: list[dict], v5_rows: list[dict], links: Links) -> EntityReport:
    report = EntityReport(kind)
    v4_left = []
    for row in v4_rows:
        if _v4_id(row) is None:
            report.v4_without_id += 1
        else:
            v4_left.append(row)
    v5_left = [row for row in v5_rows if text(row.get("id"))]
    for v4_key, v5_key in STAGES[kind]:
        by_v4: dict[Any, list[dict]] = defaultdict(list)
        by_v5: dict[Any, list[dict]] = defaultdict(list)
        for row in v4_left:
            key = v4_key(row, links)
            if key not in (None, ""):
                by_v4[key].append(row)
        for row in v5_left:
            key = v5_key(row, links)
            if key not in (None, ""):
                by_v5[key].append(row)
        settled: set[int] = set()
        for key, fours in by_v4.items():
            fives = by_v5.get(key)
            if not fives:
                continue
            settled.update(id(row) for row in fours + fives)
            if len(fours) == 1 and len(fives) == 1:
                report.matched.append((_v4_id(fours[0]), text(fives[0]["id"])))
            else:
                report.ambiguous.append(Ambiguity(
                    key, [(_v4_id(r), _label(r, V4_LABELS[kind])) for r in fours],
                    [(text(r["id"]), _label(r, V5_LABELS[kind])) for r in fives]))
        v4_left = [row for row in v4_left if id(row) not in settled]
        v5_left = [row for row in v5_left if id(row) not in settled]
    report.unmatched_v4 = [(_v4_id(r), _label(r, V4_LABELS[kind])) for r in v4_left]
    report.unmatched_v5 = [(text(r["id"]), _label(r, V5_LABELS[kind])) for r in v5_left]
    for v4_id, v5_id in report.matched:
        links.v5[(kind, v4_id)] = v5_id
    return report


def build_map(v4: Records, v5: Records) -> BuildResult:
    links = Links()
    reports = [match_kind(kind, v4.get(kind) or [], v5.get(kind) or [], links) for kind in ORDER]
    pairs = sorted(IdPair(space_of(report.kind), v4_id, report.kind, v5_id)
                   for report in reports for v4_id, v5_id in report.matched)
    return BuildResult(pairs, reports)


def summary_lines(reports: list[EntityReport]) -> list[str]:
    lines = [f"{'entity':<18} {'matched':>8} {'v4 only':>8} {'v5 only':>8} {'ambiguous':>10}"]
    for r in reports:
        lines.append(f"{r.kind:<18} {len(r.matched):>8} {len(r.unmatched_v4):>8} {len(r.unmatched_v5):>8} "
                     f"{sum(len(a.v4) for a in r.ambiguous):>10}")
    return lines


def detail_lines(reports: list[EntityReport]) -> list[str]:
    lines: list[str] = []
    for r in reports:
        for v4_id, label in r.unmatched_v4:
            lines.append(f"{r.kind}: v4 {v4_id} ({label or 'no natural key'}) has no v5 record")
        for v5_id, label in r.unmatched_v5:
            lines.append(f"{r.kind}: v5 {v5_id} ({label or 'no natural key'}) has no v4 record")
        for a in r.ambiguous:
            fours = "; ".join(f"v4 {i} ({d})" for i, d in a.v4)
            fives = "; ".join(f"v5 {i} ({d})" for i, d in a.v5)
            lines.append(f"{r.kind}: ambiguous, not mapped: {fours} <-> {fives}")
        if r.v4_without_id:
            lines.append(f"{r.kind}: {r.v4_without_id} v4 record(s) without a usable id were left out")
    return lines
