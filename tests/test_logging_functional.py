"""Logs: one access line per request with its ids and durations; secrets never written."""

from __future__ import annotations

import io
import json

import pytest

from ninja_bridge.observability import REDACTED, configure_logging, redact, redact_text

from ninja_bridge.sandbox import SANDBOX_TOKEN

V4_AUTH = {"X-Ninja-Token": SANDBOX_TOKEN}

SECRETS = {
    "token": "tok-4f1e9a0c2b7d",
    "secret": "sec-93aa01f7c2e4",
    "password": "pw-hunter2-77c1",
    "api_key": "key-0b9c7e1d55aa",
}


@pytest.fixture
def json_logs():
    """Debug-level JSON logs captured for the test; returns a reader of everything written so far."""
    stream = io.StringIO()
    configure_logging("json", "debug", stream)

    def lines() -> tuple[str, list[dict]]:
        text = stream.getvalue()
        return text, [json.loads(line) for line in text.splitlines()]

    yield lines
    configure_logging()  # back to the defaults the package starts with


async def test_tokens_secrets_and_passwords_never_reach_the_log(proxy, json_logs):
    response = await proxy.post(
        f"/api/v1/clients?api_secret={SECRETS['secret']}&api_key={SECRETS['api_key']}&page=1",
        headers={"X-Ninja-Token": SECRETS["token"], "Authorization": f"Bearer {SECRETS['token']}"},
        json={"name": "Logged Ltd", "password": SECRETS["password"], "contacts": [{"password": SECRETS["password"]}]},
    )
    assert response.status == 403  # the token is not the sandbox's: v5 refuses it, the proxy says so
    await proxy.get(f"/api/v1/clients?token={SECRETS['token']}")  # the right token, a secret in the query

    text, lines = json_logs()
    events = {line["event"] for line in lines}
    assert {"request_detail", "upstream_call", "request"} <= events  # the debug lines were written...
    for name, secret in SECRETS.items():
        assert secret not in text, f"the {name} leaked into the log"
    assert V4_AUTH["X-Ninja-Token"] not in text  # ...and the real token is not in them either
    detail = next(line for line in lines if line["event"] == "request_detail")
    assert detail["headers"]["X-Ninja-Token"] == REDACTED
    assert detail["body"]["name"] == "Logged Ltd"  # what is not secret stays readable
    assert detail["body"]["password"] == REDACTED
    assert f"api_secret={REDACTED}" in detail["query"] and "page=1" in detail["query"]
    upstream = next(line for line in lines if line["event"] == "upstream_call")
    assert upstream["headers"]["X-API-TOKEN"] == REDACTED


async def test_one_access_line_per_request_with_ids_routes_and_durations(proxy, json_logs):
    response = await proxy.get("/api/v1/clients?per_page=2", headers={"X-Request-ID": "trace-abc-123"})
    assert response.status == 200
    assert response.headers["X-Request-ID"] == "trace-abc-123"
    made = await proxy.get("/api/v1/products")
    made_id = made.headers["X-Request-ID"]
    assert len(made_id) == 32

    _, lines = json_logs()
    access = [line for line in lines if line["event"] == "request"]
    assert [line["request_id"] for line in access] == ["trace-abc-123", made_id]
    first = access[0]
    assert first["level"] == "info"
    assert first["v4_route"] == "/api/v1/clients"
    assert first["v5_route"] == "GET /api/v1/clients"
    assert first["status"] == 200
    assert first["duration_ms"] >= first["upstream_ms"] > 0
    assert first["upstream_calls"] == 1


async def test_routes_outside_the_resource_table_log_their_v5_route_too(proxy, json_logs):
    assert (await proxy.get("/api/v1/static")).status == 200
    assert (await proxy.post("/api/v1/email_invoice", json={"id": 999999})).status == 404
    _, lines = json_logs()
    access = [line for line in lines if line["event"] == "request"]
    assert access[0]["v5_route"] == "GET /api/v1/statics"
    assert access[1]["v5_route"].startswith("GET /api/v1/invoices/")


async def test_probes_are_logged_at_debug_only(proxy, json_logs):
    await proxy.get("/healthz")
    await proxy.get("/metrics")
    _, lines = json_logs()
    access = [line for line in lines if line["event"] == "request"]
    assert [(line["path"], line["level"]) for line in access] == [("/healthz", "debug"), ("/metrics", "debug")]


def test_redact_covers_keys_strings_and_urls():
    event = {"headers": {"X-Api-Token": "a1", "Accept": "json"},
             "url": "https://user:pw9@v5.example/api?api_secret=s3&page=2",
             "body": '{"password": "p\\"4", "name": "kept"}',
             "nested": [{"client_secret": "x"}]}
    redacted = redact(event)
    assert redacted["headers"] == {"X-Api-Token": REDACTED, "Accept": "json"}
    assert redacted["url"] == f"https://user:{REDACTED}@v5.example/api?api_secret={REDACTED}&page=2"
    assert redacted["body"] == f'{{"password": "{REDACTED}", "name": "kept"}}'
    assert redacted["nested"] == [{"client_secret": REDACTED}]
    assert redact_text("nothing secret here=1") == "nothing secret here=1"
