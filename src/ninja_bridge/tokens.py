"""The token map: a legacy v4 token is swapped for its v5 token, so the legacy app changes only its URL.

The map is a JSON file written with mode 0600. It holds only the SHA-256 of each v4 token; the v5
token is either in the file (then the proxy refuses the file if any user besides its owner and
group may read it: container secret mounts are often 0440) or, with ``--v5-token-env NAME``, in
the environment variable NAME of the proxy (then the file holds no secret at all). Lookups compare
every stored hash with ``hmac.compare_digest``, so the time taken says nothing about which entry
matched. Neither token is ever logged or echoed.

    ninja-bridge tokens add --label "ERP" --token-map /etc/ninja-bridge/tokens.json
    ninja-bridge tokens list / remove LABEL_OR_HASH_PREFIX
"""

from __future__ import annotations

import hashlib
import hmac
import json
import os
import stat
import tempfile
import time
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Mapping

import click

FILE_MODE = 0o600


class TokenMapError(Exception):
    """The token map cannot be used; the message says why (never containing a token)."""


def token_hash(v4_token: str) -> str:
    return hashlib.sha256(v4_token.strip().encode()).hexdigest()


@dataclass(frozen=True)
class TokenEntry:
    label: str
    v4_sha256: str
    v5_token: str | None = None  # kept in the file, or
    v5_token_env: str | None = None  # the name of the environment variable that holds it
    added_at: int = 0

    def v5(self, environ: Mapping[str, str]) -> str | None:
        if self.v5_token_env:
            return environ.get(self.v5_token_env) or None
        return self.v5_token


class TokenMap:
    def __init__(self, entries: list[TokenEntry], environ: Mapping[str, str] | None = None) -> None:
        self.entries = entries
        self.environ = os.environ if environ is None else environ

    def lookup(self, v4_token: str) -> str | None:
        """The v5 token for a v4 token, or None; constant time over the whole map."""
        wanted = token_hash(v4_token).encode()
        found: TokenEntry | None = None
        for entry in self.entries:
            if hmac.compare_digest(entry.v4_sha256.encode(), wanted):
                found = entry
        return found.v5(self.environ) if found is not None else None

    def missing_env(self) -> list[str]:
        return [e.v5_token_env for e in self.entries if e.v5_token_env and not self.environ.get(e.v5_token_env)]


def check_private(path: Path, entries: list[TokenEntry]) -> None:
    mode = stat.S_IMODE(path.stat().st_mode)
    if mode & 0o007 and any(entry.v5_token for entry in entries):
        raise TokenMapError(f"the token map {path} holds v5 tokens and any user may read it (mode {mode:o}): "
                            f"chmod 600 {path}, or keep the v5 tokens in environment variables (--v5-token-env)")


def read_entries(path: Path) -> list[TokenEntry]:
    if not path.exists():
        return []
    try:
        document = json.loads(path.read_text())
        entries = [TokenEntry(**entry) for entry in document["tokens"]]
    except (ValueError, KeyError, TypeError) as exc:
        raise TokenMapError(f"the token map {path} is not a token map written by `ninja-bridge tokens add` "
                            f"({type(exc).__name__})") from None
    check_private(path, entries)
    return entries


def write_entries(path: Path, entries: list[TokenEntry]) -> None:
    """Atomically, and never readable by others, not even for an instant."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, temp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.")  # mkstemp creates it 0600
    try:
        with os.fdopen(fd, "w") as out:
            json.dump({"version": 1, "tokens": [asdict(e) for e in entries]}, out, indent=2)
            out.flush()
            os.fsync(out.fileno())
        os.chmod(temp, FILE_MODE)
        os.replace(temp, path)
    except BaseException:
        Path(temp).unlink(missing_ok=True)
        raise


def load_token_map(path: Path, environ: Mapping[str, str] | None = None) -> TokenMap:
    if not path.exists():
        raise TokenMapError(f"no token map at {path}: add tokens with `ninja-bridge tokens add`")
    token_map = TokenMap(read_entries(path), environ)
    missing = token_map.missing_env()
    if missing:
        raise TokenMapError(f"the token map {path} takes v5 tokens from unset environment variables: "
                            + ", ".join(missing))
    return token_map


def token_resolver(token_map: TokenMap, passthrough: bool):
    """The proxy's async token resolver: mapped v4 tokens swap, others pass through (or are refused)."""

    async def resolve(token: str) -> str | None:
        v5_token = token_map.lookup(token)
        if v5_token is not None:
            return v5_token
        return token if passthrough else None

    return resolve


# -- the `ninja-bridge tokens` commands ------------------------------------------------------------

token_map_option = click.option(
    "--token-map", "token_map_path", envvar="NINJA_BRIDGE_TOKEN_MAP", required=True,
    type=click.Path(dir_okay=False, path_type=Path), help="The token map file [NINJA_BRIDGE_TOKEN_MAP]")


@click.group("tokens")
def tokens() -> None:
    """Manage the map of legacy v4 tokens to v5 tokens."""


@tokens.command("add")
@token_map_option
@click.option("--label", required=True, help="A name for this token (which system uses it)")
@click.option("--v4-token", prompt=True, hide_input=True, envvar="NINJA_BRIDGE_V4_TOKEN",
              help="The legacy token (prompted for, without echo, when not given) [NINJA_BRIDGE_V4_TOKEN]")
@click.option("--v5-token", default=None, envvar="NINJA_BRIDGE_V5_TOKEN",
              help="The v5 token, stored in the 0600 file [NINJA_BRIDGE_V5_TOKEN; prompted for when neither "
                   "this nor --v5-token-env is given]")
@click.option("--v5-token-env", default=None,
              help="Keep the v5 token out of the file: the proxy reads it from this environment variable")
def add(token_map_path: Path, label: str, v4_token: str, v5_token: str | None, v5_token_env: str | None) -> None:
    """Map a v4 token to a v5 token (replacing an earlier mapping of the same v4 token)."""
    if v5_token and v5_token_env:
        raise click.UsageError("give --v5-token or --v5-token-env, not both")
    if not v5_token and not v5_token_env:
        v5_token = click.prompt("V5 token", hide_input=True)
    if not v4_token.strip():
        raise click.UsageError("the v4 token is empty")
    entries = _entries_or_exit(token_map_path)
    digest = token_hash(v4_token)
    if any(e.label == label and e.v4_sha256 != digest for e in entries):
        raise click.UsageError(f"the label {label!r} is already used by another token")
    entries = [e for e in entries if e.v4_sha256 != digest]
    entries.append(TokenEntry(label=label, v4_sha256=digest, v5_token=(v5_token or "").strip() or None,
                              v5_token_env=v5_token_env, added_at=int(time.time())))
    write_entries(token_map_path, entries)
    click.echo(f"mapped {label} (v4 sha256 {digest[:12]}…) in {token_map_path}")


@tokens.command("list")
@token_map_option
def list_tokens(token_map_path: Path) -> None:
    """Show the mapped tokens: labels and hash prefixes only, never a token."""
    entries = _entries_or_exit(token_map_path)
    if not entries:
        click.echo("no tokens mapped")
    for entry in entries:
        where = f"env {entry.v5_token_env}" if entry.v5_token_env else "in the file"
        added = time.strftime("%Y-%m-%d %H:%M", time.gmtime(entry.added_at)) if entry.added_at else "?"
        click.echo(f"{entry.label}\tv4 sha256 {entry.v4_sha256[:12]}…\tv5 token {where}\tadded {added} UTC")


@tokens.command("remove")
@token_map_option
@click.argument("which")
def remove(token_map_path: Path, which: str) -> None:
    """Remove the mapping with this label or v4 hash prefix (at least 8 characters)."""
    entries = _entries_or_exit(token_map_path)
    matches = [e for e in entries if e.label == which or (len(which) >= 8 and e.v4_sha256.startswith(which))]
    if len(matches) != 1:
        raise click.ClickException(f"{len(matches)} mappings match {which!r}; name exactly one")
    write_entries(token_map_path, [e for e in entries if e is not matches[0]])
    click.echo(f"removed {matches[0].label}")


def _entries_or_exit(path: Path) -> list[TokenEntry]:
    try:
        return read_entries(path)
    except TokenMapError as exc:
        raise click.ClickException(str(exc)) from None
