"""Streaming rewriters for CSV, JSON Lines and JSON: one record (or one JSON event) at a time, so a
file of any size runs in constant memory.

JSON documents are not loaded: ijson's C parser turns the input into a stream of events, each id is
rewritten where its path matches, and the events are written straight back out as JSON. Paths use
dots and ``[]`` for "every element": ``client_id``, ``invoice_items[].product_id``,
``data[].client_id``. For JSON Lines, and for JSON files whose top level is an array, paths are
relative to each record; otherwise they start at the document root.
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass
from decimal import Decimal
from typing import IO, Any, Callable

import ijson
import orjson

from ..ids.translator import IdError


@dataclass
class Problem:
    where: str  # "row 12", "line 7", "$[3].client_id"
    field: str
    value: str
    reason: str

    def __str__(self) -> str:
        if self.where.startswith("$"):  # a JSON location already names the field
            return f"{self.where} = {self.value}: {self.reason}"
        return f"{self.where}: {self.field} = {self.value}: {self.reason}"


@dataclass
class Stats:
    records: int = 0
    rewritten: int = 0
    blank: int = 0
    problems: int = 0


class IdConverter:
    """Converts one id value in one direction and keeps the tallies; never drops a value: what it
    cannot map is kept as it was and reported."""

    def __init__(self, translator: Any, direction: str, report: Callable[[Problem], None]) -> None:
        self.translator = translator
        self.to_v5 = direction == "v4-to-v5"
        self.report = report
        self.stats = Stats()

    def __call__(self, kind: str, value: Any, where: str | Callable[[], str], name: str) -> Any:
        """The converted value, or `value` unchanged when it is blank or cannot be mapped; `where` may
        be a function, called only when there is something to report."""
        if value is None or value == "" or (self.to_v5 and str(value).strip() == "0"):
            self.stats.blank += 1  # v4 wrote 0 or nothing for "no record": not an id
            return value
        try:
            if self.to_v5:
                text = str(value).strip()
                if isinstance(value, (bool, float)) or not text.isdigit():
                    raise IdError(f"not a v4 {kind} id")
                result: Any = self.translator.to_v5(kind, int(text))
            else:
                if not isinstance(value, str):
                    raise IdError(f"not a v5 {kind} id")
                result = self.translator.to_v4(kind, value.strip())
        except IdError as exc:
            self.stats.problems += 1
            place = where() if callable(where) else where
            self.report(Problem(place, name, repr(value) if not isinstance(value, str) else value, str(exc)))
            return value
        self.stats.rewritten += 1
        return result


# -- CSV ---------------------------------------------------------------------------------------------

def detect_newline(sample: bytes) -> str:
    return "\r\n" if b"\r\n" in sample else "\n"


def rewrite_csv(source: IO[str], out: IO[str], fields: dict[str, str], convert: IdConverter, newline: str,
                tick: Callable[[], None]) -> None:
    reader = csv.reader(source)
    writer = csv.writer(out, lineterminator=newline)
    header = next(reader, None)
    if header is None:
        return
    missing = [name for name in fields if name not in header]
    if missing:
        raise ValueError(f"the CSV header has no column {', '.join(missing)} (columns: {', '.join(header)})")
    writer.writerow(header)
    columns = [(header.index(name), name, kind) for name, kind in fields.items()]
    for row in reader:
        where = f"row {reader.line_num}"
        for index, name, kind in columns:
            if index < len(row):
                converted = convert(kind, row[index], where, name)
                row[index] = str(converted)
        writer.writerow(row)
        convert.stats.records += 1
        tick()


# -- paths inside one loaded JSON record (JSON Lines) -----------------------------------------------

def parse_path(path: str) -> list[str]:
    """`a[].b` -> ['a', '[]', 'b']; a leading `$` is allowed."""
    parts: list[str] = []
    for chunk in path.removeprefix("$").strip(".").split("."):
        name, brackets = chunk, 0
        while name.endswith("[]"):
            name, brackets = name[:-2], brackets + 1
        if name:
            parts.append(name)
        parts.extend(["[]"] * brackets)
    if not parts:
        raise ValueError(f"empty path: {path!r}")
    return parts


def rewrite_in(obj: Any, parts: list[str], kind: str, convert: IdConverter, where: str, label: str) -> None:
    head, rest = parts[0], parts[1:]
    if head == "[]":
        if isinstance(obj, list):
            for index, item in enumerate(obj):
                if rest:
                    rewrite_in(item, rest, kind, convert, where, f"{label}[{index}]")
                else:
                    obj[index] = convert(kind, item, where, f"{label}[{index}]")
        return
    if not isinstance(obj, dict) or head not in obj:
        return
    name = f"{label}.{head}" if label else head
    if rest:
        rewrite_in(obj[head], rest, kind, convert, where, name)
    else:
        obj[head] = convert(kind, obj[head], where, name)


def rewrite_jsonl(source: IO[bytes], out: IO[bytes], fields: dict[str, str], convert: IdConverter,
                  tick: Callable[[], None]) -> None:
    paths = [(parse_path(path), path, kind) for path, kind in fields.items()]
    for number, line in enumerate(source, start=1):
        body = line.rstrip(b"\r\n")
        if not body.strip():
            out.write(line)
            continue
        try:
            record = orjson.loads(body)
        except orjson.JSONDecodeError as exc:
            convert.stats.problems += 1
            convert.report(Problem(f"line {number}", "(line)", body[:60].decode("utf-8", "replace"),
                                   f"not valid JSON ({exc}); copied unchanged"))
            out.write(line)
            continue
        for parts, _, kind in paths:
            rewrite_in(record, parts, kind, convert, f"line {number}", "")
        out.write(orjson.dumps(record) + line[len(body):])
        convert.stats.records += 1
        tick()


# -- JSON documents, streamed as parser events ------------------------------------------------------

def _encode(value: Any) -> bytes:
    if isinstance(value, Decimal):
        return str(value).encode()
    if isinstance(value, int) and not isinstance(value, bool) and abs(value) >= 2**63:
        return str(value).encode()
    return orjson.dumps(value)


class _Location:
    """Where the parser is, with array indexes, for reports: `$[3].invoice_items[0].product_id`."""

    def __init__(self) -> None:
        self.stack: list[list[Any]] = []  # [kind, key-or-index]

    def text(self) -> str:
        out = "$"
        for kind, at in self.stack:
            out += f"[{at}]" if kind == "array" else (f".{at}" if at is not None else "")
        return out


def rewrite_json(source: IO[bytes], out: IO[bytes], fields: dict[str, str], convert: IdConverter,
                 tick: Callable[[], None]) -> None:
    first = source.peek(64).lstrip()[:1] if hasattr(source, "peek") else b""
    relative = first == b"["  # a top-level array: paths name fields of each record
    patterns = {}
    for path, kind in fields.items():
        prefix = ".".join("item" if part == "[]" else part for part in parse_path(path))
        patterns[("item." + prefix) if relative else prefix] = (kind, path)
    location = _Location()
    stack: list[list[Any]] = []  # per open container: [is_array, has_items]
    pending_key = False
    chunks = bytearray()  # output waiting to be written (a list of small bytes costs ~1 KB each)

    def separator() -> None:
        nonlocal pending_key
        if pending_key:
            pending_key = False
            return
        if stack:
            if stack[-1][1]:
                chunks.extend(b",")
            stack[-1][1] = True
            if stack[-1][0]:
                location.stack[-1][1] += 1
                # A record: an element of the top-level array, or of an array in the top-level object.
                if len(stack) == 1 or (len(stack) == 2 and not stack[0][0]):
                    convert.stats.records += 1

    for prefix, event, value in ijson.parse(source, use_float=False):
        if event == "map_key":
            if stack[-1][1]:
                chunks.extend(b",")
            stack[-1][1] = True
            location.stack[-1][1] = value
            chunks.extend(orjson.dumps(value))
            chunks.extend(b":")
            pending_key = True
            continue
        if event in ("end_map", "end_array"):
            stack.pop()
            location.stack.pop()
            chunks.extend(b"}" if event == "end_map" else b"]")
        else:
            separator()
            if event in ("start_map", "start_array"):
                is_array = event == "start_array"
                stack.append([is_array, False])
                location.stack.append(["array", -1] if is_array else ["map", None])
                chunks.extend(b"[" if is_array else b"{")
            else:
                target = patterns.get(prefix)
                if target is not None:
                    value = convert(target[0], value, location.text, target[1])
                chunks.extend(_encode(value))
        if len(chunks) > 1 << 16:
            out.write(chunks)
            chunks.clear()
            tick()
    chunks.extend(b"\n")
    out.write(chunks)
    tick()


def open_text(binary: IO[bytes]) -> IO[str]:
    return io.TextIOWrapper(binary, encoding="utf-8", newline="")
