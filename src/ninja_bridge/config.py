"""Settings: defaults, then a config file, then NINJA_BRIDGE_* environment variables, then flags.

Every setting is validated at start-up; a bad one stops the process with one line naming it.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import AnyHttpUrl, Field, SecretStr, ValidationError, field_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

from .webhook_targets import parse_allowed

ENV_PREFIX = "NINJA_BRIDGE_"


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix=ENV_PREFIX, extra="forbid")

    upstream: AnyHttpUrl | None = Field(None, description="Base URL of the v5 server, e.g. https://invoicing.example.com")
    host: str = Field("127.0.0.1", description="Address the proxy listens on")
    port: int = Field(8000, ge=0, le=65535, description="Port the proxy listens on")
    hash_salt: str = Field("", description="The v5 server's HASH_SALT (v5 default: empty)")
    public_url: AnyHttpUrl | None = Field(
        None, description="The proxy's public base URL, for pagination links (default: the request's own host)")
    mappings_dir: Path | None = Field(None, description="A directory of YAML mappings merged over the built-in ones")

    upstream_connect_timeout: float = Field(5.0, gt=0, description="Seconds to open a connection to v5")
    upstream_read_timeout: float = Field(30.0, gt=0, description="Seconds to wait for each read from v5")
    upstream_total_timeout: float = Field(60.0, gt=0, description="Seconds for a whole v5 exchange")
    upstream_max_connections: int = Field(100, ge=1, description="Most connections open to v5 at once")
    upstream_retries: int = Field(2, ge=0, le=10, description="Retries of idempotent requests on connection errors")

    max_body_size: int = Field(20 * 1024 * 1024, ge=1024, description="Largest request body accepted, in bytes")
    log_format: Literal["auto", "json", "console"] = Field(
        "auto", description="Log format: json, console, or auto (console on a terminal)")
    log_level: Literal["debug", "info", "warning", "error"] = Field("info", description="Lowest level logged")

    # v4 hooks relayed from v5 webhooks (docs/webhooks.md).
    webhook_secret: SecretStr | None = Field(
        None, description="Key signing the relay URLs given to v5; v4 hooks are refused until it is set")
    webhook_public_url: AnyHttpUrl | None = Field(
        None, description="Base URL v5 reaches the proxy's relay at (default: public_url, else the request's host)")
    webhook_allowed_targets: Annotated[list[str], NoDecode] = Field(
        default_factory=list,
        description="Comma-separated hostnames (*.example.com allowed) and CIDRs legacy hook targets must be in "
                    "(default: any, except link-local and cloud-metadata addresses, which are always refused)")
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

    @property
    def upstream_base(self) -> str:
        return str(self.upstream).rstrip("/") if self.upstream else ""

    @property
    def public_base(self) -> str | None:
        return str(self.public_url).rstrip("/") if self.public_url else None

    @property
    def webhook_base(self) -> str | None:
        url = self.webhook_public_url or self.public_url
        return str(url).rstrip("/") if url else None


class SettingsError(Exception):
    """A setting that is missing or invalid, described in one line naming it."""


def load_settings(**overrides: Any) -> Settings:
    """Settings from the environment with command-line values (not None) laid over them."""
    given = {key: value for key, value in overrides.items() if value is not None}
    try:
        return Settings(**given)
    except ValidationError as exc:
        error = exc.errors()[0]
        name = str(error["loc"][0]) if error["loc"] else "?"
        source = f"--{name.replace('_', '-')}" if name in given else f"{ENV_PREFIX}{name.upper()}"
        raise SettingsError(f"invalid setting {source}: {error['msg']}") from exc
