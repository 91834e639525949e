"""Settings: defaults, then a config file, then NINJA_BRIDGE_* environment variables, then flags.

Every setting is validated at start-up; a bad one stops the process with one line naming it and
where it came from. The command-line flags are generated from the fields below (cli.py), so the
fields' descriptions are the documentation of `ninja-bridge serve --help`.
"""

from __future__ import annotations

import os
import tomllib
from contextvars import ContextVar
from pathlib import Path
from typing import Annotated, Any, Literal

import yaml
from pydantic import AnyHttpUrl, Field, SecretStr, ValidationError, field_validator, model_validator
from pydantic_settings import BaseSettings, InitSettingsSource, NoDecode, SettingsConfigDict

from .webhook_targets import parse_allowed

ENV_PREFIX = "NINJA_BRIDGE_"
CONFIG_ENV = ENV_PREFIX + "CONFIG"  # the config file may be named by the environment too

# The values read from a config file, for the Settings being built right now (see below).
_FILE_VALUES: ContextVar[dict[str, Any]] = ContextVar("config_file_values", default={})


def secret(description: str, default: Any = None, **kwargs: Any) -> Any:
    """A field whose value `config show` and the logs never print."""
    return Field(default, description=description, json_schema_extra={"secret": True}, **kwargs)


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix=ENV_PREFIX, extra="forbid")

    upstream: AnyHttpUrl | None = Field(None, description="Base URL of the v5 server, e.g. https://invoicing.example.com")
    host: str = Field("127.0.0.1", description="Address the proxy listens on")
    port: int = Field(8000, ge=0, le=65535, description="Port the proxy listens on")
    hash_salt: str = secret("The v5 server's HASH_SALT (v5 default: empty)", "")
    public_url: AnyHttpUrl | None = Field(
        None, description="The proxy's public base URL, for pagination links (default: the request's own host)")
    mappings_dir: Path | None = Field(None, description="A directory of YAML mappings merged over the built-in ones")

    upstream_connect_timeout: float = Field(5.0, gt=0, description="Seconds to open a connection to v5")
    upstream_read_timeout: float = Field(30.0, gt=0, description="Seconds to wait for each read from v5")
    upstream_total_timeout: float = Field(60.0, gt=0, description="Seconds for a whole v5 exchange")
    upstream_max_connections: int = Field(100, ge=1, description="Most connections open to v5 at once")
    upstream_retries: int = Field(2, ge=0, le=10, description="Retries of idempotent requests on connection errors")
    readiness_cache: float = Field(
        2.0, ge=0, description="Seconds a /readyz probe of v5 is reused before v5 is asked again")

    max_body_size: int = Field(20 * 1024 * 1024, ge=1024, description="Largest request body accepted, in bytes")
    max_header_size: int = Field(
        8190, ge=1024, le=1024 * 1024, description="Longest request line or header field accepted, in bytes")
    request_timeout: float = Field(
        120.0, gt=0, description="Seconds one client request may take in all (v4-shaped 504 beyond)")
    shutdown_grace: float = Field(
        15.0, ge=0, description="Seconds in-flight requests get to finish after SIGTERM before they are cut")
    shutdown_delay: float = Field(
        0.0, ge=0, description="Seconds to keep serving after SIGTERM (readiness already failing) so load "
                               "balancers stop sending traffic; counted within shutdown_grace")

    log_format: Literal["auto", "json", "console"] = Field(
        "auto", description="Log format: json, console, or auto (console on a terminal, else json)")
    log_level: Literal["debug", "info", "warning", "error"] = Field("info", description="Lowest level logged")

    # Migrated accounts (README "Migrated accounts").
    idmap: str | None = Field(
        None, description="The v4<->v5 id map: a SQLite file path or a postgresql:// DSN (default: no map, "
                          "v4 id = decoded v5 key)")
    native_id_base: int | None = Field(
        None, ge=2, le=2**31 - 1,
        description="First v4 id of records created in v5 after cut-over; must equal the map's (default: the map's)")
    idmap_poll_interval: float = Field(2.0, gt=0, description="Seconds between checks of the id map for changes")
    token_map: Path | None = Field(None, description="The token map file (mode 0600) of v4 tokens to v5 tokens")
    token_map_passthrough: bool = Field(
        True, description="Send tokens that are not in the token map upstream unchanged (false: refuse them)")

    # v4 hooks relayed from v5 webhooks (docs/webhooks.md).
    webhook_secret: SecretStr | None = Field(
        None, description="Key signing the relay URLs given to v5; v4 hooks are refused until it is set")
    webhook_public_url: AnyHttpUrl | None = Field(
        None, description="Base URL v5 reaches the proxy's relay at (default: public_url, else the request's host)")
    webhook_allowed_targets: Annotated[list[str], NoDecode] = Field(
        default_factory=list,
        description="Comma-separated hostnames (*.example.com allowed) and CIDRs legacy hook targets must be in "
                    "(default: any, except link-local and cloud metadata addresses, which are always refused)")
    webhook_timeout: float = Field(10.0, gt=0, description="Seconds for one delivery to a legacy hook target")
    webhook_retries: int = Field(3, ge=0, le=10, description="Retries of a failed delivery, in the background")
    webhook_retry_delay: float = Field(
        5.0, ge=0, description="Seconds before the first retry; each further retry waits twice as long")
    webhook_max_pending: int = Field(1000, ge=1, description="Most deliveries waiting for a retry at once")

    @field_validator("webhook_allowed_targets", mode="before")
    @classmethod
    def _split_targets(cls, value: Any) -> Any:
        if isinstance(value, str):
            return [part.strip() for part in value.split(",") if part.strip()]
        return value

    @field_validator("webhook_allowed_targets")
    @classmethod
    def _check_targets(cls, value: list[str]) -> list[str]:
        parse_allowed(value)  # a ValueError naming the bad entry
        return value

    @model_validator(mode="after")
    def _delay_within_grace(self) -> "Settings":
        if self.shutdown_delay > self.shutdown_grace:
            raise ValueError("shutdown_delay must not exceed shutdown_grace")
        return self

    @classmethod
    def settings_customise_sources(cls, settings_cls, init_settings, env_settings, dotenv_settings,
                                   file_secret_settings):
        # flags > environment > config file > defaults
        return init_settings, env_settings, InitSettingsSource(settings_cls, _FILE_VALUES.get())

    @property
    def upstream_base(self) -> str:
        return str(self.upstream).rstrip("/") if self.upstream else ""

    @property
    def public_base(self) -> str | None:
        return str(self.public_url).rstrip("/") if self.public_url else None

    @classmethod
    def is_secret(cls, name: str) -> bool:
        extra = cls.model_fields[name].json_schema_extra
        return isinstance(extra, dict) and bool(extra.get("secret"))

    @property
    def webhook_base(self) -> str | None:
        url = self.webhook_public_url or self.public_url
        return str(url).rstrip("/") if url else None


class SettingsError(Exception):
    """A setting that is missing or invalid, described in one line naming it."""


def read_config_file(path: Path) -> dict[str, Any]:
    """The settings in a YAML (.yaml, .yml) or TOML (.toml) file: a flat table of setting names."""
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise SettingsError(f"cannot read config file {path}: {exc.strerror or exc}") from exc
    try:
        if path.suffix.lower() == ".toml":
            values = tomllib.loads(text)
        elif path.suffix.lower() in (".yaml", ".yml"):
            values = yaml.safe_load(text) or {}
        else:
            raise SettingsError(f"config file {path}: unknown format (use .yaml, .yml or .toml)")
    except (tomllib.TOMLDecodeError, yaml.YAMLError) as exc:
        raise SettingsError(f"config file {path} is not valid: {str(exc).splitlines()[0]}") from exc
    if not isinstance(values, dict):
        raise SettingsError(f"config file {path}: expected a table of settings, got {type(values).__name__}")
    values = {str(key).replace("-", "_"): value for key, value in values.items()}
    for key in values:
        if key not in Settings.model_fields:
            raise SettingsError(f"config file {path}: unknown setting {key!r}")
    return values


def load_settings(config_file: Path | str | None = None, **overrides: Any) -> Settings:
    """Settings from defaults, a config file, the environment and command-line values (not None)."""
    given = {key: value for key, value in overrides.items() if value is not None}
    config_file = config_file or os.environ.get(CONFIG_ENV) or None
    path = Path(config_file) if config_file else None
    file_values = read_config_file(path) if path else {}
    token = _FILE_VALUES.set(file_values)
    try:
        return Settings(**given)
    except ValidationError as exc:
        error = exc.errors()[0]
        if not error["loc"]:  # a rule across settings
            raise SettingsError(f"invalid settings: {error['msg'].removeprefix('Value error, ')}") from exc
        where = _source(str(error["loc"][0]), given, file_values, path)
        raise SettingsError(f"invalid setting {where}: {error['msg']}") from exc
    finally:
        _FILE_VALUES.reset(token)


def _source(name: str, given: dict, file_values: dict, path: Path | None) -> str:
    """Where the offending value came from, as the operator wrote it."""
    if name in given:
        return f"--{name.replace('_', '-')}"
    if f"{ENV_PREFIX}{name.upper()}" in os.environ:
        return f"{ENV_PREFIX}{name.upper()}"
    if name in file_values:
        return f"{name} in {path}"
    return name
