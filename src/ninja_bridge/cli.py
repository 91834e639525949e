"""The `ninja-bridge` command."""

from __future__ import annotations

import asyncio
import secrets
import sys
from pathlib import Path
from typing import Callable, Literal, get_args, get_origin

import click
import yaml
from aiohttp import web
from pydantic.fields import FieldInfo

from .config import CONFIG_ENV, ENV_PREFIX, Settings, SettingsError, load_settings
from .observability import REDACTED, configure_logging, redact_text
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


# -- one flag per setting, generated from the Settings fields so that --help never drifts ------

def _metavar(annotation: object) -> str:
    text = str(annotation)
    for word, metavar in (("Url", "URL"), ("Path", "PATH"), ("float", "SECONDS"), ("int", "INTEGER")):
        if word in text:
            return metavar
    return "TEXT"


def _default_text(field: FieldInfo) -> str:
    if field.is_required():
        return "required"
    default = field.get_default(call_default_factory=True)
    if default is None or default == []:
        return "none"
    if default == "":
        return "empty"
    return f"default {default}"


def setting_option(name: str, field: FieldInfo) -> Callable:
    flag = "--" + name.replace("_", "-")
    help_text = f"{field.description} [{ENV_PREFIX}{name.upper()}; {_default_text(field)}]"
    choices = get_args(field.annotation) if get_origin(field.annotation) is Literal else ()
    if field.annotation is bool:
        return click.option(f"{flag}/--no-{flag[2:]}", name, default=None, help=help_text)
    if choices:
        return click.option(flag, name, type=click.Choice(choices), default=None, help=help_text)
    return click.option(flag, name, default=None, metavar=_metavar(field.annotation), help=help_text)


def settings_options(command: Callable) -> Callable:
    """Adds --config and a flag for every setting; the command gets them as keyword arguments."""
    for name, field in reversed(list(Settings.model_fields.items())):
        command = setting_option(name, field)(command)
    return click.option(
        "--config", "config_file", type=click.Path(dir_okay=False, path_type=Path), default=None,
        help=f"A YAML (.yaml, .yml) or TOML (.toml) file of settings [{CONFIG_ENV}]. "
             "Precedence: flags > environment > file > defaults.")(command)


@click.group(context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 120})
@click.version_option(package_name="ninja-bridge")
def main() -> None:
    """Serve the Invoice Ninja v4 API on top of an Invoice Ninja v5 server."""


@main.command()
@settings_options
def serve(**flags: object) -> None:
    """Run the proxy in front of a v5 server.

    Every setting below can also be given as an environment variable (named in brackets) or in
    the --config file. Health: /healthz, /readyz; Prometheus metrics: /metrics.
    """
    from .app import create_app
    from .server import serve as run
    from .ids.live import IdMapConfigError
    from .tokens import TokenMapError

    settings = settings_or_exit(**flags)
    if settings.upstream is None:
        fail("missing setting NINJA_BRIDGE_UPSTREAM (--upstream): the v5 server's base URL is required")
    configure_logging(settings.log_format, settings.log_level)
    try:
        app = create_app(settings)
    except MappingError as exc:
        fail("the mappings are invalid:\n  " + "\n  ".join(str(p) for p in exc.problems))
    except (IdMapConfigError, TokenMapError) as exc:
        fail(f"refusing to start: {exc}")
    try:
        asyncio.run(run(app, settings))
    except OSError as exc:  # e.g. the port is taken
        fail(f"cannot listen on {settings.host}:{settings.port}: {exc.strerror or exc}")


@main.group()
def config() -> None:
    """Inspect the configuration."""


@config.command("show")
@settings_options
def config_show(**flags: object) -> None:
    """Print the effective configuration as YAML, secrets redacted.

    The output is a --config file once the [redacted] values are filled in or removed.
    """
    settings = settings_or_exit(**flags)
    click.echo(yaml.safe_dump(shown_settings(settings), sort_keys=False), nl=False)


def shown_settings(settings: Settings) -> dict[str, object]:
    values = settings.model_dump(mode="json")
    for name, value in values.items():
        if Settings.is_secret(name) and value:
            values[name] = REDACTED
        elif isinstance(value, str):
            values[name] = redact_text(value)  # e.g. a password inside a URL
    return values


@main.command()
@click.option("--host", default="127.0.0.1", show_default=True, help="Listen address")
@click.option("--port", default=9000, show_default=True, type=int, help="Listen port")
@click.option("--token", default=None, help="The API token the sandbox accepts (default: a fixed demo token)")
@click.option("--hash-salt", default="", help="HASH_SALT of the emulated v5 server")
@click.option("--migrated", is_flag=True,
              help="Start as an account migrated from v4 (new v5 keys), and serve its pre-migration v4 API too")
@click.option("--v4-port", default=9004, show_default=True, type=int, help="Port of the v4 API (with --migrated)")
def sandbox(host: str, port: int, token: str | None, hash_salt: str, migrated: bool, v4_port: int) -> None:
    """Run the v5 emulator alone, seeded with a small company."""
    from .sandbox import SANDBOX_TOKEN, create_app

    configure_logging()
    app = create_app(token=token or SANDBOX_TOKEN, hash_salt=hash_salt, seed=True, migrated=migrated)
    click.echo(f"v5 sandbox on http://{host}:{port}/api/v1  (X-API-TOKEN: {token or SANDBOX_TOKEN})")
    if not migrated:
        web.run_app(app, host=host, port=port, print=None, access_log=None)
        return
    from .sandbox.v4fixture import V4_TOKEN, create_v4_app

    click.echo(f"its v4 API before the migration on http://{host}:{v4_port}/api/v1  (X-Ninja-Token: {V4_TOKEN})")
    asyncio.run(_serve_all([(app, host, port), (create_v4_app(app["v4_fixture"]), host, v4_port)]))


async def _serve_all(apps: list) -> None:
    runners = []
    try:
        for app, host, port in apps:
            runner = web.AppRunner(app, access_log=None)
            await runner.setup()
            runners.append(runner)
            await web.TCPSite(runner, host, port).start()
        await asyncio.Event().wait()
    finally:
        for runner in reversed(runners):
            await runner.cleanup()


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


def register_commands() -> None:
    """Command groups that live in their own modules."""
    from .idmap.cli import idmap
    from .remap.cli import remap
    from .tokens import tokens

    main.add_command(idmap)
    main.add_command(tokens)
    main.add_command(remap)


register_commands()

if __name__ == "__main__":
    main()
