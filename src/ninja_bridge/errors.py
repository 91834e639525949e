"""Errors as a v4 client expects them (reference v4-api.md §7), and v5 errors translated to them.

v4 had several shapes for its errors; each constructor here names the situation, keeps v4's
status code and shape, and says clearly what went wrong.
"""

from __future__ import annotations

from typing import Any, Callable


class V4Error(Exception):
    """An answer to give the v4 client instead of a translated upstream response."""

    def __init__(self, status: int, body: Any, *, kind: str = "client") -> None:
        super().__init__(f"{status}: {body}")
        self.status = status
        self.body = body
        self.kind = kind  # for metrics and logs: client, upstream, translation, timeout


def invalid_token() -> V4Error:
    return V4Error(403, {"error": {"message": "Invalid token"}})


def record_not_found() -> V4Error:
    return V4Error(404, {"message": "record does not exist"})


def route_not_found(message: str = "Route does not exist") -> V4Error:
    return V4Error(404, {"error": {"message": message}})


def method_not_allowed(method: str) -> V4Error:
    return V4Error(405, {"error": {"message": f"Method {method} is not allowed on this route"}})


def bad_request(message: str) -> V4Error:
    return V4Error(400, {"error": {"message": message}})


def validation_failed(errors: dict[str, list[str]], *, kind: str = "client") -> V4Error:
    return V4Error(422, {"message": "The given data was invalid.", "errors": errors}, kind=kind)


def payload_too_large(limit: int) -> V4Error:
    return V4Error(413, {"error": {"message": f"Request body is larger than the limit of {limit} bytes"}})


def server_error(message: str = "Internal Server Error", *, kind: str = "translation") -> V4Error:
    return V4Error(500, {"error": {"message": message}}, kind=kind)


def upstream_unreachable(detail: str) -> V4Error:
    return V4Error(502, {"error": {"message": f"The v5 server could not be reached: {detail}"}}, kind="upstream")


def upstream_bad_answer(detail: str, *, kind: str = "upstream") -> V4Error:
    return V4Error(502, {"error": {"message": f"The v5 server gave an answer that cannot be used: {detail}"}},
                   kind=kind)


def upstream_timeout(seconds: float, what: str = "answer") -> V4Error:
    return V4Error(504, {"error": {"message": f"The v5 server did not {what} within {seconds:g} seconds"}},
                   kind="upstream")


def request_timeout(seconds: float) -> V4Error:
    return V4Error(504, {"error": {"message": f"The request did not complete within {seconds:g} seconds"}},
                   kind="timeout")


def upstream_unavailable(detail: str) -> V4Error:
    return V4Error(503, {"error": {"message": f"The v5 server is unavailable: {detail}"}}, kind="upstream")


# v5 answers "not found" with 400 and one of these messages (v5-api.md §1.3).
_V5_NOT_FOUND_PREFIXES = ("Record with value", "No query results", "Invalid primary key")


def from_v5(status: int, body: Any, v4_field: Callable[[str], str]) -> V4Error:
    """The v4 error for a v5 error answer; `v4_field` renames v5 validation keys to v4 names."""
    message = _message(body)
    if status == 422:
        errors = body.get("errors") if isinstance(body, dict) else None
        translated: dict[str, list[str]] = {}
        for key, messages in (errors or {}).items():
            texts = messages if isinstance(messages, list) else [str(messages)]
            name = v4_field(key)
            translated.setdefault(name, []).extend(text.replace(key, name) for text in map(str, texts))
        return validation_failed(translated or {"_": [message or "The given data was invalid."]})
    if status == 400 and message.startswith(_V5_NOT_FOUND_PREFIXES):
        return record_not_found()
    if status == 403 and message.lower().startswith("invalid token"):
        return invalid_token()
    if status in (401, 403):
        # v5 answers a policy refusal with 401; v4 answered it with 403.
        return V4Error(403, {"message": message or "This action is unauthorized."})
    if status == 404:
        return route_not_found()
    if status == 429:
        return V4Error(403, "Please wait 1 second(s)")
    if status >= 500:
        return server_error("The v5 server failed to handle the request", kind="upstream")
    return bad_request(message or f"The v5 server refused the request ({status})")


def _message(body: Any) -> str:
    if isinstance(body, dict):
        value = body.get("message") or body.get("error") or ""
        if isinstance(value, dict):
            value = value.get("message", "")
        return str(value)
    if isinstance(body, str):
        return body
    return ""


def not_supported(route: str, reason: str) -> V4Error:
    """A v4 route the bridge cannot serve on v5: say so and why, instead of v4's 500 or a wrong answer."""
    return V4Error(501, {"error": {"message": f"{route} is not supported by ninja_bridge: {reason}"}})


def invalid_credentials() -> V4Error:
    return V4Error(401, {"error": {"message": "Invalid credentials"}})


def invalid_api_secret() -> V4Error:
    return V4Error(403, {"error": {"message": "Invalid value for API_SECRET"}})
