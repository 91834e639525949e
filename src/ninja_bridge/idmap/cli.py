"""`ninja-bridge idmap build|import|export|show`."""

from __future__ import annotations

import asyncio
import sys
from collections import Counter
from pathlib import Path

import click
import orjson

from ..ids.codec import HashidCodec
from ..ids.idmap import DEFAULT_NATIVE_BASE, IdMap, IdMapError, IdPair
from ..ids.stores import IdMapStore, StoredMap, open_store
from ..ids.translator import kind_windows
from .build import build_map, detail_lines, summary_lines
from .files import MapFileError, merge, read_any, write_csv, write_json
from .sources import SourceError, fetch_v4_api, fetch_v5_api, read_v4_export, v4_records

idmap_option = click.option("--idmap", "location", envvar="NINJA_BRIDGE_IDMAP", required=True,
                            help="The id map: a SQLite file or a postgresql:// DSN [NINJA_BRIDGE_IDMAP]")
salt_option = click.option("--hash-salt", envvar="NINJA_BRIDGE_HASH_SALT", default="", show_default=False,
                           help="The v5 server's HASH_SALT, to check every v5 id [NINJA_BRIDGE_HASH_SALT]")
base_option = click.option("--native-id-base", type=click.IntRange(2, 2**31 - 1), envvar="NINJA_BRIDGE_NATIVE_ID_BASE",
                           default=None, help=f"First v4 id of records created after cut-over (new maps: "
                                              f"{DEFAULT_NATIVE_BASE}; an existing map keeps its own)")


@click.group("idmap")
def idmap() -> None:
    """Build, inspect and fix the v4<->v5 id map of a migrated account."""


def _stored(store: IdMapStore) -> StoredMap:
    try:
        return store.load()
    except FileNotFoundError:
        return StoredMap([], None)
    except Exception as exc:
        raise click.ClickException(f"cannot read the id map at {store.description}: {exc}") from None


def _native_base(stored: StoredMap, wanted: int | None) -> int:
    if stored.native_base is not None and wanted is not None and wanted != stored.native_base:
        raise click.ClickException(
            f"the id map was built with native id base {stored.native_base}; changing it to {wanted} would "
            "change the v4 id of every record created after cut-over. Start a new map file if that is meant.")
    return stored.native_base or wanted or DEFAULT_NATIVE_BASE


def _save(store: IdMapStore, pairs: list[IdPair], base: int, salt: str) -> None:
    try:
        IdMap.build(pairs, base, HashidCodec(salt))  # refuse to write a map the proxy would refuse
    except IdMapError as exc:
        raise click.ClickException(str(exc)) from None
    try:
        store.save(pairs, base)
    except Exception as exc:
        raise click.ClickException(f"cannot write the id map at {store.description}: {exc}") from None


@idmap.command()
@idmap_option
@click.option("--v5-url", required=True, envvar="NINJA_BRIDGE_UPSTREAM", help="The v5 server [NINJA_BRIDGE_UPSTREAM]")
@click.option("--v5-token", required=True, envvar="NINJA_BRIDGE_V5_TOKEN", help="A v5 API token [NINJA_BRIDGE_V5_TOKEN]")
@click.option("--v4-url", default=None, help="The old v4 server, if it still runs")
@click.option("--v4-token", default=None, envvar="NINJA_BRIDGE_V4_TOKEN", help="A v4 API token [NINJA_BRIDGE_V4_TOKEN]")
@click.option("--v4-export", type=click.Path(exists=True, dir_okay=False, path_type=Path), default=None,
              help="A v4 JSON export file (Settings > Export > JSON) instead of a v4 server")
@salt_option
@base_option
@click.option("--report", "report_path", type=click.Path(dir_okay=False, path_type=Path), default=None,
              help="Also write the full report (every unmatched and ambiguous record) as JSON here")
@click.option("--dry-run", is_flag=True, help="Match and report, but leave the map unchanged")
@click.option("--strict", is_flag=True, help="Exit with status 1 when anything is unmatched or ambiguous")
def build(location: str, v5_url: str, v5_token: str, v4_url: str | None, v4_token: str | None,
          v4_export: Path | None, hash_salt: str, native_id_base: int | None, report_path: Path | None,
          dry_run: bool, strict: bool) -> None:
    """Match v4 records to v5 records by natural keys and write the map.

    The new map replaces the old one whole: rerunning is harmless, and after a forced re-migration
    (which gives every record a new v5 id again) it drops every stale pair.
    """
    if (v4_url is None) == (v4_export is None):
        raise click.UsageError("give exactly one v4 source: --v4-url (with --v4-token) or --v4-export")
    if v4_url is not None and not v4_token:
        raise click.UsageError("--v4-url needs --v4-token")
    store = open_store(location)
    base = _native_base(_stored(store), native_id_base)

    async def fetch():
        lists = await fetch_v4_api(v4_url, v4_token) if v4_url else read_v4_export(v4_export)
        return v4_records(lists), await fetch_v5_api(v5_url, v5_token)

    try:
        v4, v5 = asyncio.run(fetch())
    except SourceError as exc:
        raise click.ClickException(str(exc)) from None
    result = build_map(v4, v5)
    for line in summary_lines(result.reports):
        click.echo(line)
    details = detail_lines(result.reports)
    for line in details:
        click.echo(line, err=True)
    if report_path is not None:
        report_path.write_bytes(orjson.dumps([r.as_dict() for r in result.reports], option=orjson.OPT_INDENT_2))
    if dry_run:
        click.echo(f"dry run: {len(result.pairs)} pairs matched, {store.description} unchanged")
    else:
        _save(store, result.pairs, base, hash_salt)
        click.echo(f"wrote {len(result.pairs)} pairs to {store.description} (native id base {base})")
    if strict and details:
        sys.exit(1)


@idmap.command("import")
@idmap_option
@click.argument("source", type=click.Path(exists=True, dir_okay=False, allow_dash=True, path_type=Path))
@click.option("--format", "fmt", type=click.Choice(["csv", "json"]), default=None,
              help="File format (default: from the file name; csv for stdin)")
@click.option("--replace", is_flag=True, help="Replace the whole map (default: lay these pairs over it)")
@salt_option
@base_option
def import_pairs(location: str, source: Path, fmt: str | None, replace: bool, hash_salt: str,
                 native_id_base: int | None) -> None:
    """Load pairs from a CSV or JSON file, checking the whole result before writing anything."""
    fmt = fmt or ("json" if source.suffix.lower() == ".json" else "csv")
    data = sys.stdin.buffer.read() if str(source) == "-" else source.read_bytes()
    try:
        pairs, file_base = read_any(data, fmt)
    except MapFileError as exc:
        raise click.ClickException(f"{source}: {exc}") from None
    store = open_store(location)
    stored = _stored(store)
    base = _native_base(stored, native_id_base if native_id_base is not None else file_base)
    result = pairs if replace else merge(stored.pairs, pairs)
    _save(store, result, base, hash_salt)
    click.echo(f"imported {len(pairs)} pairs; the map at {store.description} now holds {len(result)}")


@idmap.command()
@idmap_option
@click.argument("target", type=click.Path(dir_okay=False, allow_dash=True, path_type=Path), default="-")
@click.option("--format", "fmt", type=click.Choice(["csv", "json"]), default=None,
              help="File format (default: from the file name; csv for stdout)")
def export(location: str, target: Path, fmt: str | None) -> None:
    """Write the map as CSV or JSON (to TARGET, or stdout)."""
    fmt = fmt or ("json" if target.suffix.lower() == ".json" else "csv")
    store = open_store(location)
    stored = _stored(store)
    if stored.native_base is None:
        raise click.ClickException(f"no id map at {store.description}")
    pairs = sorted(stored.pairs)
    out = sys.stdout if str(target) == "-" else target.open("w", newline="")
    try:
        if fmt == "json":
            write_json(pairs, stored.native_base, out)
        else:
            write_csv(pairs, out)
    finally:
        if out is not sys.stdout:
            out.close()


@idmap.command()
@idmap_option
@click.option("--v4", "v4_lookup", default=None, metavar="SPACE:ID", help="Show the record a v4 id names")
@click.option("--v5", "v5_lookup", default=None, metavar="KIND:ID", help="Show the v4 id of a v5 record")
def show(location: str, v4_lookup: str | None, v5_lookup: str | None) -> None:
    """Summarise the map (pairs per kind, the native id ranges) or look one id up."""
    store = open_store(location)
    stored = _stored(store)
    if stored.native_base is None:
        raise click.ClickException(f"no id map at {store.description}")
    if v4_lookup or v5_lookup:
        space_or_kind, _, raw = (v4_lookup or v5_lookup or "").partition(":")
        for pair in stored.pairs:
            if (v4_lookup and (pair.space, str(pair.v4_id)) == (space_or_kind, raw)) or \
                    (v5_lookup and (pair.kind, pair.v5_id) == (space_or_kind, raw)):
                click.echo(f"{pair.space} {pair.v4_id} <-> {pair.kind} {pair.v5_id}")
                return
        raise click.ClickException(f"{v4_lookup or v5_lookup} is not in the map")
    click.echo(f"id map at {store.description}: {len(stored.pairs)} pairs")
    for kind, count in sorted(Counter(p.kind for p in stored.pairs).items()):
        click.echo(f"  {kind:<18} {count}")
    base = stored.native_base
    click.echo(f"mapped legacy ids: 1 .. {base - 1}; records created in v5 after cut-over:")
    for kind, (offset, size) in kind_windows(base).items():
        click.echo(f"  {kind:<18} v4 id = {offset} + v5 key (key < {size})")
    click.echo(f"  {'every other kind':<18} v4 id = {base} + v5 key (key < {2**31 - base})")
