"""`ninja-bridge remap`: rewrite the ids inside exported files, v4 -> v5 or v5 -> v4.

    ninja-bridge remap invoices.csv invoices-v5.csv --direction v4-to-v5 \\
        --field client_id=client --field id=invoice --idmap map.sqlite3

The output is written to a temporary file next to OUTPUT and renamed over it only when the run
succeeds, so an interrupted run leaves OUTPUT as it was. Every id that cannot be mapped is kept as
it was in the output and reported with its row (stderr, and `--report FILE` as CSV); `--strict`
turns any such id into exit status 1 and leaves OUTPUT untouched.
"""

from __future__ import annotations

import csv
import io
import os
import sys
import tempfile
from contextlib import contextmanager
from pathlib import Path
from typing import IO, Iterator

import click
import ijson
import yaml

from ..ids.codec import HashidCodec
from ..ids.live import IdMapConfigError, load_translator
from ..ids.stores import open_store
from ..ids.translator import STATIC_KINDS, SchemeIdTranslator
from ..translate.spec import load_mappings
from ..translate.structural import known_functions
from .formats import IdConverter, Problem, detect_newline, open_text, rewrite_csv, rewrite_json, rewrite_jsonl

FORMATS = {".csv": "csv", ".json": "json", ".jsonl": "jsonl", ".ndjson": "jsonl"}
DIRECTIONS = ("v4-to-v5", "v5-to-v4")


def known_kinds() -> set[str]:
    """The v5 kinds an id can belong to: the names the mappings (and so the id map) use."""
    mappings = load_mappings(known_functions=known_functions())
    kinds = {entity.kind for entity in mappings.entities.values() if entity.kind}
    kinds |= {kind for entity in mappings.entities.values() for kind in entity.ids.values()}
    return kinds - STATIC_KINDS


class CountingReader(io.RawIOBase):
    """A binary file that counts the bytes read through it (for the progress bar)."""

    def __init__(self, raw: IO[bytes]) -> None:
        self.raw = raw
        self.count = 0

    def readable(self) -> bool:
        return True

    def readinto(self, buffer) -> int:  # type: ignore[override]
        n = self.raw.readinto(buffer)
        self.count += n or 0
        return n


@contextmanager
def atomic_output(target: Path | None) -> Iterator[IO[bytes]]:
    """A temp file beside `target`, renamed over it on success; discarded on error or without target."""
    if target is None:
        with open(os.devnull, "wb") as sink:
            yield sink
        return
    directory = target.resolve().parent
    fd, temp = tempfile.mkstemp(dir=directory, prefix=f".{target.name}.", suffix=".part")
    try:
        with os.fdopen(fd, "wb") as out:
            yield out
            out.flush()
            os.fsync(out.fileno())
        os.replace(temp, target)
    finally:
        Path(temp).unlink(missing_ok=True)


class DiscardOutput(Exception):
    """Raised inside atomic_output to throw the output away (strict run with problems)."""


def parse_fields(values: tuple[str, ...]) -> dict[str, str]:
    fields: dict[str, str] = {}
    for value in values:
        name, sep, kind = value.rpartition("=")
        if not sep or not name or not kind:
            raise click.BadParameter(f"{value!r}: expected NAME=ENTITY, e.g. client_id=client", param_hint="--field")
        fields[name.strip()] = kind.strip()
    return fields


def read_spec(path: Path) -> dict:
    try:
        spec = yaml.safe_load(path.read_text()) or {}
    except (OSError, yaml.YAMLError) as exc:
        raise click.BadParameter(f"cannot read {path}: {exc}", param_hint="--spec") from None
    if not isinstance(spec, dict) or not isinstance(spec.get("fields", {}), dict):
        raise click.BadParameter(f"{path}: expected a mapping with `fields: {{name: entity}}`", param_hint="--spec")
    unknown = set(spec) - {"format", "direction", "fields"}
    if unknown:
        raise click.BadParameter(f"{path}: unknown keys {', '.join(sorted(unknown))}", param_hint="--spec")
    return spec


@click.command("remap")
@click.argument("source", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.argument("target", type=click.Path(dir_okay=False, path_type=Path), required=False)
@click.option("--format", "fmt", type=click.Choice(["csv", "json", "jsonl"]), default=None,
              help="Input format (default: from the file extension)")
@click.option("--direction", type=click.Choice(DIRECTIONS), default=None,
              help="v4-to-v5: integer v4 ids to v5 hashed ids; v5-to-v4: the reverse")
@click.option("--field", "field_flags", multiple=True, metavar="NAME=ENTITY",
              help="A CSV column or JSON path holding ids of ENTITY (client, invoice, quote, ...); repeatable. "
                   "Paths: client_id, invoice_items[].product_id, data[].client_id")
@click.option("--spec", type=click.Path(exists=True, dir_okay=False, path_type=Path), default=None,
              help="A YAML/JSON file with format, direction and fields: {name: entity}; flags win")
@click.option("--idmap", envvar="NINJA_BRIDGE_IDMAP", default=None,
              help="The id map (SQLite file or postgresql:// DSN); without it the plain scheme [NINJA_BRIDGE_IDMAP]")
@click.option("--hash-salt", envvar="NINJA_BRIDGE_HASH_SALT", default="", help="The v5 HASH_SALT [NINJA_BRIDGE_HASH_SALT]")
@click.option("--native-id-base", type=int, envvar="NINJA_BRIDGE_NATIVE_ID_BASE", default=None,
              help="Must equal the id map's, if given [NINJA_BRIDGE_NATIVE_ID_BASE]")
@click.option("--dry-run", is_flag=True, help="Convert and report, but write no output")
@click.option("--strict", is_flag=True, help="Any unmappable id: exit status 1 and leave TARGET untouched")
@click.option("--report", "report_path", type=click.Path(dir_okay=False, path_type=Path), default=None,
              help="Also write every unmappable id as CSV (where, field, value, reason) here")
def remap(source: Path, target: Path | None, fmt: str | None, direction: str | None, field_flags: tuple[str, ...],
          spec: Path | None, idmap: str | None, hash_salt: str, native_id_base: int | None, dry_run: bool,
          strict: bool, report_path: Path | None) -> None:
    """Rewrite the ids in SOURCE (CSV, JSON or JSON Lines) into TARGET."""
    settings = read_spec(spec) if spec else {}
    fmt = fmt or settings.get("format") or FORMATS.get(source.suffix.lower())
    direction = direction or settings.get("direction")
    fields = {**{str(k): str(v) for k, v in (settings.get("fields") or {}).items()}, **parse_fields(field_flags)}
    if fmt not in ("csv", "json", "jsonl"):
        raise click.UsageError(f"cannot tell the format of {source.name}: give --format csv|json|jsonl")
    if direction not in DIRECTIONS:
        raise click.UsageError("give --direction v4-to-v5 or v5-to-v4 (or `direction:` in the spec)")
    if not fields:
        raise click.UsageError("name at least one id field: --field NAME=ENTITY (or `fields:` in the spec)")
    kinds = known_kinds()
    unknown = sorted({kind for kind in fields.values() if kind not in kinds})
    if unknown:
        raise click.UsageError(f"unknown entity {', '.join(unknown)}; known: {', '.join(sorted(kinds))}")
    if target is None and not dry_run:
        raise click.UsageError("give TARGET (or --dry-run)")

    codec = HashidCodec(hash_salt)
    try:
        translator = load_translator(open_store(idmap), codec, native_id_base) if idmap else SchemeIdTranslator(codec)
    except IdMapConfigError as exc:
        raise click.ClickException(str(exc)) from None

    problems_out = open(report_path, "w", newline="") if report_path else None
    report_writer = csv.writer(problems_out) if problems_out else None
    if report_writer:
        report_writer.writerow(["where", "field", "value", "reason"])

    def report(problem: Problem) -> None:
        click.echo(f"unmappable: {problem}", err=True)
        if report_writer:
            report_writer.writerow([problem.where, problem.field, problem.value, problem.reason])

    convert = IdConverter(translator, direction, report)
    size = source.stat().st_size
    show_progress = sys.stderr.isatty()
    raw = open(source, "rb", buffering=0)
    counter = CountingReader(raw)
    buffered = io.BufferedReader(counter, buffer_size=1 << 16)
    committed = False
    try:
        with click.progressbar(length=size, label=source.name, file=sys.stderr,
                               hidden=not show_progress) as bar:
            done = [0]

            def tick() -> None:
                if show_progress:
                    bar.update(counter.count - done[0])
                    done[0] = counter.count

            try:
                with atomic_output(None if dry_run else target) as out:
                    run(fmt, buffered, out, fields, convert, tick)
                    if strict and convert.stats.problems:
                        raise DiscardOutput()
                    committed = not dry_run
            except DiscardOutput:
                pass
            except (ValueError, csv.Error, ijson.JSONError) as exc:  # a bad header, a malformed document
                raise click.ClickException(f"{source}: {exc}") from None
    finally:
        buffered.close()
        if problems_out:
            problems_out.close()

    stats = convert.stats
    where = f"written to {target}" if committed else ("dry run: nothing written" if dry_run else
                                                     f"--strict: {target} left untouched")
    click.echo(f"{stats.records} records, {stats.rewritten} ids rewritten, {stats.blank} blank, "
               f"{stats.problems} unmappable; {where}", err=True)
    if strict and stats.problems:
        sys.exit(1)


def run(fmt: str, source: io.BufferedReader, out: IO[bytes], fields: dict[str, str], convert: IdConverter,
        tick) -> None:
    if fmt == "csv":
        newline = detect_newline(source.peek(1 << 16)[: 1 << 16])
        text_in, text_out = open_text(source), io.TextIOWrapper(out, encoding="utf-8", newline="")
        try:
            rewrite_csv(text_in, text_out, fields, convert, newline, tick)
        finally:
            text_out.flush()
            text_out.detach()
            text_in.detach()
    elif fmt == "jsonl":
        rewrite_jsonl(source, out, fields, convert, tick)
    else:
        rewrite_json(source, out, fields, convert, tick)
