"""Logging: structlog, JSON in production and readable on a terminal, secrets never written.

Every event passes through `redact()` on its way out: values under secret-looking keys are
replaced, and so are secret-looking `key=value` pairs, JSON members and URL passwords inside
strings (query strings, raw bodies, error messages).
"""

from __future__ import annotations

import logging
import re
import sys
from typing import Any, TextIO

import structlog

SECRET_WORDS = r"token|secret|password|passwd|authorization|api[-_]?key|cookie|salt"
SECRET_NAME = re.compile(SECRET_WORDS, re.IGNORECASE)
REDACTED = "[redacted]"

# Inside strings: key=value (query strings, form bodies), "key": "value" (JSON text), user:password@ (URLs).
_SECRET_PAIR = re.compile(rf"(?<![\w.\-\[\]])(?P<key>[\w.\-\[\]]*(?:{SECRET_WORDS})[\w.\-\[\]]*)="
                          rf"(?P<value>[^&\s;,\"']+)",
                          re.IGNORECASE)
_SECRET_MEMBER = re.compile(rf"(?P<key>\"[^\"]*(?:{SECRET_WORDS})[^\"]*\"\s*:\s*)(?P<value>\"(?:[^\"\\]|\\.)*\"|[^,}}\s]+)",
                            re.IGNORECASE)
_URL_PASSWORD = re.compile(r"(?P<scheme>[a-z][a-z0-9+.\-]*://[^:/@\s]*):(?P<value>[^@/\s]+)@", re.IGNORECASE)

_debug = False


def redact_text(text: str) -> str:
    # Every access-log line passes here: run each pattern only where its anchor character is.
    if "=" in text:
        text = _SECRET_PAIR.sub(lambda m: f"{m['key']}={REDACTED}", text)
    if ":" in text:
        text = _SECRET_MEMBER.sub(lambda m: f'{m["key"]}"{REDACTED}"', text)
    if "@" in text:
        text = _URL_PASSWORD.sub(lambda m: f"{m['scheme']}:{REDACTED}@", text)
    return text


def redact(value: Any) -> Any:
    """A copy of a structure with secrets replaced (see the module docstring)."""
    if isinstance(value, dict):
        return {k: REDACTED if isinstance(k, str) and SECRET_NAME.search(k) else redact(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [redact(v) for v in value]
    if isinstance(value, str):
        return redact_text(value)
    return value


def _redact_processor(logger: Any, method: str, event: dict) -> dict:
    return redact(event)


class _CurrentStderr:
    """Standard error as it is when a line is written, not when logging was configured."""

    def write(self, text: str) -> int:
        return sys.stderr.write(text)

    def flush(self) -> None:
        sys.stderr.flush()


def configure_logging(fmt: str = "auto", level: str = "info", stream: TextIO | None = None) -> None:
    """Log to `stream` (standard error by default): JSON, or readable lines on a terminal."""
    global _debug
    _debug = level == "debug"
    terminal = (stream or sys.stderr).isatty()
    renderer: Any
    if fmt == "json" or (fmt == "auto" and not terminal):
        renderer = structlog.processors.JSONRenderer()
    else:
        renderer = structlog.dev.ConsoleRenderer(colors=terminal)
    structlog.configure(
        processors=[
            structlog.contextvars.merge_contextvars,
            structlog.processors.add_log_level,
            structlog.processors.TimeStamper(fmt="iso", utc=True),
            structlog.processors.format_exc_info,  # before redaction: tracebacks can quote secrets too
            _redact_processor,
            renderer,
        ],
        wrapper_class=structlog.make_filtering_bound_logger(logging.getLevelName(level.upper())),
        logger_factory=structlog.PrintLoggerFactory(stream or _CurrentStderr()),
        cache_logger_on_first_use=False,
    )


def debug_enabled() -> bool:
    """Whether debug events are written (the request middleware then also logs headers and bodies)."""
    return _debug


configure_logging()  # redaction is on from the start, whoever embeds the package
log = structlog.get_logger("ninja_bridge")
