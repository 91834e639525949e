"""v5's HTTP conventions shared by every handler: envelopes, payload parsing, error rendering, guards."""

from __future__ import annotations

import base64
import re
from typing import Any

import orjson
from aiohttp import web

from ninja_bridge.sandbox import account
from ninja_bridge.sandbox.entities import ENTITIES, Entity, parse_includes, render
from ninja_bridge.sandbox.errors import (
    HTML_FORBIDDEN, HTML_METHOD_NOT_ALLOWED, HTML_NOT_FOUND, REDIRECT_BACK, ApiError, invalid_include, message,
)
from ninja_bridge.sandbox.listing import paginate
from ninja_bridge.sandbox.store import Record, SandboxStore

API_VERSION_HEADERS = {"X-Api-Version": "5.0.16", "X-App-Version": "5.10.17"}


LEADING_INDENT = re.compile(rb"(?m)^ +")
NON_ASCII = re.compile(r"[^\x00-\x7f]")


def php_json(body: Any, pretty: bool = False) -> bytes:
    """json_encode() as PHP does it: `/` escaped as `\\/`, non-ASCII as \\uXXXX, JSON_PRETTY_PRINT by 4 spaces."""
    raw = orjson.dumps(body, option=orjson.OPT_INDENT_2 if pretty else 0)
    if pretty:
        raw = LEADING_INDENT.sub(lambda match: match.group(0) * 2, raw)
    raw = raw.replace(b"/", b"\\/")  # "/" never occurs outside strings in JSON
    if not raw.isascii():
        raw = NON_ASCII.sub(escape_non_ascii, raw.decode()).encode()
    return raw


def escape_non_ascii(match: re.Match[str]) -> str:
    code = ord(match.group(0))
    if code > 0xFFFF:  # outside the BMP: a UTF-16 surrogate pair, as PHP writes it
        code -= 0x10000
        return f"\\u{0xD800 + (code >> 10):04x}\\u{0xDC00 + (code & 0x3FF):04x}"
    return f"\\u{code:04x}"


def json_response(body: Any, status: int = 200) -> web.Response:
    """Laravel's response()->json(): compact, used for messages and errors."""
    return web.Response(body=php_json(body), status=status, content_type="application/json")


def envelope_response(request: web.Request, data: Any, meta: dict | None = None) -> web.Response:
    """BaseController::response(): data under `?index=` (default "data"; "none" sends it bare), meta,
    `?include_static=true` statics; top-level keys sorted, pretty-printed, with the version headers."""
    index = request.query.get("index") or "data"
    if index == "none":
        body: Any = data
    else:
        body = {index: data}
        if meta:
            body["meta"] = meta
        if request.query.get("include_static"):
            body["static"] = account.statics()
        body = dict(sorted(body.items()))
    return web.Response(body=php_json(body, pretty=True), content_type="application/json",
                        headers=API_VERSION_HEADERS)


def store_of(request: web.Request) -> SandboxStore:
    return request.app["store"]


def entity_of(request: web.Request) -> Entity:
    return ENTITIES[request.match_info["entity"]]


async def read_payload(request: web.Request) -> dict:
    """The request input: a JSON object, or form fields. Malformed JSON is a 400."""
    if request.content_type in ("application/x-www-form-urlencoded", "multipart/form-data"):
        form = await request.post()
        return clean_input({key: value for key, value in form.items() if isinstance(value, str)})
    raw = await request.read()
    if not raw.strip():
        return {}
    try:
        payload = orjson.loads(raw)
    except orjson.JSONDecodeError:
        raise message(400, "Malformed JSON: the request body could not be decoded.") from None
    return clean_input(payload) if isinstance(payload, dict) else {}


UNTRIMMED_KEYS = frozenset({"password", "password_confirmation", "current_password"})


def clean_input(value: Any, key: object = None) -> Any:
    """Laravel's global TrimStrings and ConvertEmptyStringsToNull middlewares, applied to every input."""
    if isinstance(value, dict):
        return {k: clean_input(v, k) for k, v in value.items()}
    if isinstance(value, list):
        return [clean_input(v) for v in value]
    if isinstance(value, str):
        text = value if key in UNTRIMMED_KEYS else value.strip()
        return text or None
    return value


def item(request: web.Request, entity: Entity, record: Record) -> web.Response:
    includes = parse_includes(request.query.get("include"))
    return envelope_response(request, render(store_of(request), entity, record, includes))


def list_response(request: web.Request, entity: Entity, rows: list[Record]) -> web.Response:
    includes = parse_includes(request.query.get("include"))
    for name in includes:
        if name not in entity.valid_relations:
            raise invalid_include(name)
    page_rows, meta = paginate(request, rows)
    store = store_of(request)
    return envelope_response(request, [render(store, entity, row, includes) for row in page_rows], meta)


def expects_json(request: web.Request) -> bool:
    """Laravel's Request::expectsJson(): an XHR accepting anything, or a JSON Accept header."""
    accept = request.headers.get("Accept", "")
    first_type = accept.split(",")[0].strip()
    wants_json = "/json" in first_type or "+json" in first_type
    accepts_anything = not accept.strip() or "*/*" in accept or accept.strip() == "*"
    is_ajax = request.headers.get("X-Requested-With") == "XMLHttpRequest"
    return (is_ajax and accepts_anything) or wants_json


def error_response(request: web.Request, error: ApiError) -> web.Response:
    if error.without_json is None or expects_json(request):
        return json_response(error.body, error.status)
    if error.without_json == REDIRECT_BACK:
        # A failed FormRequest redirects "back": to the Referer, else the application root.
        back = request.headers.get("Referer") or f"{request.scheme}://{request.host}/"
        return web.Response(status=302, headers={"Location": back}, content_type="text/html",
                            text=f'<meta http-equiv="refresh" content="0;url={back}" />Redirecting to {back}.')
    status, title = {
        HTML_NOT_FOUND: (404, "Not Found"),
        HTML_FORBIDDEN: (403, "Forbidden"),
        HTML_METHOD_NOT_ALLOWED: (405, "Method Not Allowed"),
    }.get(error.without_json, (500, "Server Error"))
    return web.Response(status=status, content_type="text/html",
                        text=f"<!DOCTYPE html><html><head><title>{title}</title></head>"
                             f"<body><div>{status} | {title}</div></body></html>")


def require_password(request: web.Request) -> None:
    """PasswordProtection: X-API-PASSWORD (or X-API-PASSWORD-BASE64), or a confirmation in the last 30 min."""
    store = store_of(request)
    password = request.headers.get("X-API-PASSWORD")
    if request.headers.get("X-API-PASSWORD-BASE64"):
        try:
            password = base64.b64decode(request.headers["X-API-PASSWORD-BASE64"]).decode()
        except (ValueError, UnicodeDecodeError):
            password = ""
    recently_confirmed = not password and store.password_recently_confirmed()
    if recently_confirmed or (password and account.is_owner_password(store, password)):
        store.confirm_password()
        return
    raise ApiError(412, {"message": "Invalid Password", "errors": {}})


def refuse_repeated_write(request: web.Request, *parts: object) -> None:
    """v5 refuses the same payment or invoice bulk request from the same IP within one second."""
    fingerprint = "|".join([str(request.remote), *map(str, parts)])
    if store_of(request).is_repeat(fingerprint):
        raise message(400, "Duplicate request")
