"""The id map as files an operator can read and edit: CSV (`space,v4_id,kind,v5_id`) and JSON
(`{"native_base": N, "pairs": [{"space", "v4_id", "kind", "v5_id"}, ...]}`)."""

from __future__ import annotations

import csv
import io
from typing import IO, Iterable

import orjson

from ..ids.idmap import IdPair
from ..ids.translator import space_of

CSV_COLUMNS = ["space", "v4_id", "kind", "v5_id"]


class MapFileError(ValueError):
    def __init__(self, problems: list[str]) -> None:
        super().__init__("\n".join(problems[:20]) + (f"\n... and {len(problems) - 20} more" if len(problems) > 20 else ""))
        self.problems = problems


def write_csv(pairs: Iterable[IdPair], out: IO[str]) -> None:
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(CSV_COLUMNS)
    for pair in pairs:
        writer.writerow([pair.space, pair.v4_id, pair.kind, pair.v5_id])


def write_json(pairs: Iterable[IdPair], native_base: int, out: IO[str]) -> None:
    document = {"native_base": native_base, "pairs": [
        {"space": p.space, "v4_id": p.v4_id, "kind": p.kind, "v5_id": p.v5_id} for p in pairs]}
    out.write(orjson.dumps(document, option=orjson.OPT_INDENT_2).decode() + "\n")


def _pair(row: dict, where: str, problems: list[str]) -> IdPair | None:
    kind = str(row.get("kind") or "").strip()
    space = str(row.get("space") or "").strip() or space_of(kind)
    v5_id = str(row.get("v5_id") or "").strip()
    raw = row.get("v4_id")
    if not kind or not v5_id or raw in (None, ""):
        problems.append(f"{where}: needs kind, v4_id and v5_id")
        return None
    if isinstance(raw, bool) or not str(raw).strip().isdigit():
        problems.append(f"{where}: v4_id {raw!r} is not a positive integer")
        return None
    return IdPair(space, int(str(raw).strip()), kind, v5_id)


def read_csv(text: IO[str]) -> list[IdPair]:
    reader = csv.DictReader(text)
    missing = {"kind", "v4_id", "v5_id"} - set(reader.fieldnames or [])
    if missing:
        raise MapFileError([f"the CSV header lacks {', '.join(sorted(missing))} (expected {','.join(CSV_COLUMNS)})"])
    problems: list[str] = []
    pairs = [_pair(row, f"line {reader.line_num}", problems) for row in reader]
    if problems:
        raise MapFileError(problems)
    return [p for p in pairs if p is not None]


def read_json(data: bytes) -> tuple[list[IdPair], int | None]:
    try:
        document = orjson.loads(data)
    except orjson.JSONDecodeError as exc:
        raise MapFileError([f"not valid JSON: {exc}"]) from None
    rows = document.get("pairs") if isinstance(document, dict) else document
    if not isinstance(rows, list):
        raise MapFileError(['expected {"pairs": [...]} or a list of pairs'])
    problems: list[str] = []
    pairs = [_pair(row if isinstance(row, dict) else {}, f"pairs[{index}]", problems) for index, row in enumerate(rows)]
    if problems:
        raise MapFileError(problems)
    base = document.get("native_base") if isinstance(document, dict) else None
    return [p for p in pairs if p is not None], base if isinstance(base, int) else None


def read_any(data: bytes, fmt: str) -> tuple[list[IdPair], int | None]:
    if fmt == "json":
        return read_json(data)
    return read_csv(io.StringIO(data.decode("utf-8-sig"))), None


def merge(existing: Iterable[IdPair], updates: Iterable[IdPair]) -> list[IdPair]:
    """The existing pairs with `updates` laid over them: an update replaces any pair that names the
    same v4 id (in its space) or the same v5 record."""
    updates = list(updates)
    taken_v4 = {(p.space, p.v4_id) for p in updates}
    taken_v5 = {(p.kind, p.v5_id) for p in updates}
    kept = [p for p in existing if (p.space, p.v4_id) not in taken_v4 and (p.kind, p.v5_id) not in taken_v5]
    return sorted(kept + updates)
