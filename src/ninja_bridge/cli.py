"""The `ninja-bridge` command."""

from __future__ import annotations

import asyncio
import secrets
import sys
from pathlib import Path

import click
from aiohttp import web

from .config import Settings, SettingsError, load_settings
from .observability import configure_logging
from .translate.spec import MappingError, load_mappings
from .translate.structural import known_functions


def fail(message: str) -> None:
    click.echo(f"ninja-bridge: {message}", err=True)
    sys.exit(2)


def settings_or_exit(**values: object) -> Settings:
    try:
        return load_settings(**values)
    except SettingsError as exc:
        fail(str(exc))
        raise  # unreachable


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="ninja-bridge")
def main() -> None:
    """Serve the Invoice Ninja v4 API on top of an Invoice Ninja v5 server."""


@main.command()
@click.option("--upstream", help="Base URL of the v5 server [NINJA_BRIDGE_UPSTREAM]")
@click.option("--host", help="Listen address [NINJA_BRIDGE_HOST, default 127.0.0.1]")
@click.option("--port", type=str, help="Listen port [NINJA_BRIDGE_PORT, default 8000]")
@click.option("--hash-salt", help="The v5 server's HASH_SALT [NINJA_BRIDGE_HASH_SALT, default empty]")
@click.option("--public-url", help="The proxy's public base URL [NINJA_BRIDGE_PUBLIC_URL]")
@click.option("--mappings-dir", help="Directory of mapping overrides [NINJA_BRIDGE_MAPPINGS_DIR]")
def serve(**flags: object) -> None:
    """Run the proxy in front of a v5 server."""
    from .app import create_app

    settings = settings_or_exit(**flags)
    if settings.upstream is None:
        fail("missing setting NINJA_BRIDGE_UPSTREAM (--upstream): the v5 server's base URL is required")
    configure_logging(settings.log_format, settings.log_level)
    try:
        app = create_app(settings)
    except MappingError as exc:
        fail("the mappings are invalid:\n  " + "\n  ".join(str(p) for p in exc.problems))
    web.run_app(app, host=settings.host, port=settings.port, print=None, access_log=None)


@main.command()
@click.option("--host", default="127.0.0.1", show_default=True, help="Listen address")
@click.option("--port", default=9000, show_default=True, type=int, help="Listen port")
@click.option("--token", default=None, help="The API token the sandbox accepts (default: a fixed demo token)")
@click.option("--hash-salt", default="", help="HASH_SALT of the emulated v5 server")
def sandbox(host: str, port: int, token: str | None, hash_salt: str) -> None:
    """Run the v5 emulator alone, seeded with a small company."""
    from .sandbox import SANDBOX_TOKEN, create_app

    configure_logging()
    app = create_app(token=token or SANDBOX_TOKEN, hash_salt=hash_salt, seed=True)
    click.echo(f"v5 sandbox on http://{host}:{port}/api/v1  (X-API-TOKEN: {token or SANDBOX_TOKEN})")
    web.run_app(app, host=host, port=port, print=None, access_log=None)


@main.command()
@click.option("--port", default=8000, show_default=True, type=int, help="Port of the proxy")
@click.option("--host", default="127.0.0.1", show_default=True, help="Listen address of the proxy")
def demo(port: int, host: str) -> None:
    """The proxy in front of the sandbox, in one process, with requests to try."""
    configure_logging("console")
    asyncio.run(_run_demo(host, port))


async def _run_demo(host: str, port: int) -> None:
    from .app import create_app
    from .sandbox import SANDBOX_TOKEN
    from .sandbox import create_app as create_sandbox

    sandbox_app = create_sandbox(token=SANDBOX_TOKEN, hash_salt="", seed=True)
    # Under the default id scheme a record's v4 id is its v5 key: show a real one in the banner.
    invoice_id = next(iter(sandbox_app["store"].table("invoices").rows))
    sandbox_runner = web.AppRunner(sandbox_app, access_log=None)
    await sandbox_runner.setup()
    await web.TCPSite(sandbox_runner, "127.0.0.1", 0).start()
    sandbox_port = sandbox_runner.addresses[0][1]
    # A per-run relay secret turns v4 hooks on: the sandbox's webhooks die with the demo anyway.
    settings = settings_or_exit(upstream=f"http://127.0.0.1:{sandbox_port}", host=host, port=port,
                                webhook_secret=secrets.token_urlsafe(32))
    proxy_runner = web.AppRunner(create_app(settings), access_log=None)
    await proxy_runner.setup()
    await web.TCPSite(proxy_runner, host, port).start()
    url = f"http://{host}:{port}/api/v1"
    click.echo(demo_banner(url, SANDBOX_TOKEN, sandbox_port, invoice_id), nl=True)
    sys.stdout.flush()
    try:
        await asyncio.Event().wait()
    finally:
        await proxy_runner.cleanup()
        await sandbox_runner.cleanup()


def demo_banner(url: str, token: str, sandbox_port: int, invoice_id: int) -> str:
    auth = f"-H 'X-Ninja-Token: {token}'"
    return "\n".join([
        f"ninja_bridge demo: the v4 API at {url}  (in front of the v5 sandbox on 127.0.0.1:{sandbox_port})",
        f"token: {token}",
        "try:",
        f"  curl -s {auth} '{url}/clients?per_page=2'",
        f"  curl -s {auth} '{url}/invoices/{invoice_id}?include=invitations,client'",
        f"  curl -s {auth} -H 'Content-Type: application/json' -X POST {url}/products "
        """-d '{"product_key":"DEMO","notes":"Made through the v4 API","cost":12.5,"qty":1}'""",
        "Ctrl+C stops both.",
    ])


@main.command("check-mappings")
@click.argument("directory", required=False, type=click.Path(path_type=Path))
def check_mappings(directory: Path | None) -> None:
    """Validate the built-in mappings, with DIRECTORY merged over them if given."""
    try:
        mappings = load_mappings(directory, known_functions=known_functions())
    except MappingError as exc:
        for problem in exc.problems:
            click.echo(str(problem), err=True)
        fail(f"{len(exc.problems)} problem(s) in the mappings")
    click.echo(f"mappings OK: {len(mappings.resources)} resources, {len(mappings.entities)} entities, "
               f"{len(mappings.tables)} tables")


if __name__ == "__main__":
    main()
