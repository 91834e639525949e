"""The hook relay's rules as plain functions: the event table, signatures, payload translation,
target safety, and the bounds on background retries."""

from __future__ import annotations

import asyncio
import ipaddress

import pytest
from hypothesis import given, strategies as st

from ninja_bridge.config import SettingsError, load_settings
from ninja_bridge.translate.spec import MappingError, load_mappings
from ninja_bridge.translate.structural import known_functions
from ninja_bridge.webhook_targets import TargetPolicy, TargetRefused
from ninja_bridge.webhooks import (
    Delivery, HookRelay, client_name, relay_signature, relay_url, target_for_logs,
)

# v4's event names and EVENT_* numbers (v4-api.md §6.6, Constants.php:332-352).
V4_EVENTS = [
    "create_client", "create_invoice", "create_quote", "create_payment", "create_vendor", "update_quote",
    "delete_quote", "update_invoice", "delete_invoice", "update_client", "delete_client", "delete_payment",
    "update_vendor", "delete_vendor", "create_expense", "update_expense", "delete_expense", "create_task",
    "update_task", "delete_task", "approve_quote",
]


def test_the_event_table_is_v4s(mappings):
    assert {name: hook.event_id for name, hook in mappings.hooks.items()} == {
        name: number for number, name in enumerate(V4_EVENTS, start=1)}


def test_v4_listener_includes_are_declared(mappings):
    hooks = mappings.hooks
    assert hooks["create_invoice"].includes == ["client"] and hooks["approve_quote"].includes == ["client"]
    assert hooks["delete_payment"].includes == ["client", "invoice"]
    assert all(not hooks[name].includes for name in V4_EVENTS if name.endswith(("_client", "_task", "_expense")))


def test_a_duplicate_event_id_is_a_mapping_problem(tmp_path):
    (tmp_path / "hooks.yaml").write_text("hooks:\n  update_client: {event_id: 1, entity: client}\n")
    with pytest.raises(MappingError) as error:
        load_mappings(tmp_path, known_functions=known_functions())
    assert "hooks.update_client.event_id" in str(error.value) and "create_client" in str(error.value)


def test_an_unknown_include_is_a_mapping_problem(tmp_path):
    (tmp_path / "hooks.yaml").write_text("hooks:\n  create_client: {event_id: 1, entity: client, includes: [vendor]}\n")
    with pytest.raises(MappingError) as error:
        load_mappings(tmp_path, known_functions=known_functions())
    assert "hooks.create_client.includes" in str(error.value)


def test_relay_urls_are_signed_over_event_and_target():
    target = "https://hooks.zapier.test/catch/1/abc?x=1&y=2"
    url = relay_url("https://bridge.test", "s3cret", "create_invoice", target)
    assert url.startswith("https://bridge.test/relay/v1/hooks/create_invoice?target=https%3A%2F%2Fhooks.zapier")
    signature = url.rsplit("&sig=", 1)[1]
    assert signature == relay_signature("s3cret", "create_invoice", target) and len(signature) == 64
    assert signature != relay_signature("s3cret", "update_invoice", target)
    assert signature != relay_signature("s3cret", "create_invoice", target + "&z")
    assert signature != relay_signature("other", "create_invoice", target)


@given(st.text(min_size=1, max_size=20), st.text(min_size=1, max_size=60), st.text(min_size=1, max_size=60))
def test_a_signature_is_valid_only_for_its_own_event_and_target(event, target, other):
    signature = relay_signature("key", event, target)
    assert (relay_signature("key", event, other) == signature) is (other == target)
    assert (relay_signature("key", other, target) == signature) is (other == event)
    # moving text across the boundary between event and target does not keep the signature
    assert relay_signature("key", event + "\n" + target[:1], target[1:]) != signature


def test_logs_show_where_a_target_points_not_its_secrets():
    assert target_for_logs("https://user:pw@hooks.test:8443/catch/abc?key=SECRET") == "https://hooks.test:8443"
    assert target_for_logs("http://[::1/broken") == "(not a URL)"


def test_client_name_only_with_a_client_id():
    client = {"display_name": "Acme Ltd", "name": "Acme"}
    assert client_name({"client_id": 7}, {"client": client}) == "Acme Ltd"
    assert client_name({"client_id": 0}, {"client": client}) is None
    assert client_name({"id": 7}, {"client": client}) is None
    assert client_name({"client_id": 7}, {}) is None  # v5 sent no client (tasks, expenses)


def relay_for(plans, mappings, **settings):
    values = dict(upstream="http://v5.test", webhook_secret="s", webhook_retry_delay=30, webhook_retries=2)
    values.update(settings)
    return HookRelay(load_settings(**values), plans, plans.ids)


def test_invoice_payload_is_v4s(plans, mappings, codec):
    v5_invoice = {
        "id": codec.encode(210), "client_id": codec.encode(105), "number": "0042", "status_id": "2",
        "line_items": [{"product_key": "Widget", "quantity": 3, "cost": 5.5}],
        "client": {"id": codec.encode(105), "name": "Acme", "display_name": "Acme",
                   "contacts": [{"id": codec.encode(160), "email": "a@acme.test"}]},
    }
    payload = relay_for(plans, mappings).v4_payload(mappings.hooks["update_invoice"], v5_invoice)
    assert (payload["id"], payload["client_id"], payload["invoice_number"]) == (210, 105, "0042")
    assert payload["invoice_items"][0]["qty"] == 3 and payload["client"]["contacts"][0]["id"] == 160
    assert payload["client_name"] == "Acme" and "number" not in payload and "line_items" not in payload


@given(key=st.integers(min_value=1, max_value=2**30 - 1))
def test_payment_payload_ids_round_trip(plans, mappings, ids, key):
    relay = relay_for(plans, mappings)
    v5_payment = {"id": ids.to_v5("payment", key), "invoices": [{"id": ids.to_v5("invoice", key)}],
                  "paymentables": [{"invoice_id": ids.to_v5("invoice", key)}],
                  "client": {"id": ids.to_v5("client", key)}}
    payload = relay.v4_payload(mappings.hooks["create_payment"], v5_payment)
    assert payload["id"] == payload["invoice_id"] == payload["invoice"]["id"] == payload["client"]["id"] == key


async def test_pending_retries_are_bounded_and_cancelled_on_close(plans, mappings):
    relay = relay_for(plans, mappings, webhook_max_pending=2)
    await relay.start()
    deliveries = [Delivery("create_client", f"http://127.0.0.1:9/{n}", b"{}") for n in range(3)]
    assert [relay.retry_later(d) for d in deliveries] == [True, True, False]
    assert relay.registry.get_sample_value("ninja_bridge_webhook_deliveries_dropped_total",
                                           {"event": "create_client", "reason": "too_many_pending"}) == 1
    tasks = set(relay.pending)
    await relay.close()
    assert not relay.pending and all(task.cancelled() for task in tasks)


async def test_no_retries_configured_drops_at_once(plans, mappings):
    relay = relay_for(plans, mappings, webhook_retries=0)
    assert relay.retry_later(Delivery("create_task", "http://127.0.0.1:9/", b"{}")) is False
    assert not relay.pending


# -- target safety ----------------------------------------------------------------------------------

DEFAULT = TargetPolicy()


@pytest.mark.parametrize("url", [
    "http://127.0.0.1:8080/hook", "http://[::1]/hook", "https://10.1.2.3/hook", "http://localhost:1/x",
])
async def test_loopback_and_private_targets_are_allowed_by_default(url):
    await DEFAULT.check(url)


@pytest.mark.parametrize("url", [
    "http://169.254.169.254/latest/meta-data/", "http://169.254.0.1/", "http://[fe80::1%25eth0]/",
    "http://[fd00:ec2::254]/", "http://metadata.google.internal./", "http://METADATA.GOOGLE.INTERNAL/",
    "http://[::ffff:169.254.169.254]/", "file:///etc/passwd", "http:///nohost", "http://127.0.0.1:99999/",
    "http://no-such-host.invalid/",
])
async def test_refused_targets(url):
    with pytest.raises(TargetRefused):
        await DEFAULT.check(url)


@given(st.integers(min_value=0, max_value=2**16 - 1),
       st.lists(st.sampled_from(["127.0.0.0/8", "0.0.0.0/0", "::/0", "169.254.0.0/16", "example.com"]), max_size=3))
def test_link_local_is_refused_whatever_the_allowed_list(low, allowed):
    address = ipaddress.IPv4Address("169.254.0.0") + low
    with pytest.raises(TargetRefused):
        TargetPolicy.from_entries(allowed).check_address("h", str(address))


def test_an_allowed_list_narrows_targets():
    policy = TargetPolicy.from_entries(["*.example.com", "hooks.test", "10.0.0.0/8"])
    policy.check_address("a.example.com", "203.0.113.9")  # allowed by name
    policy.check_address("hooks.test", "203.0.113.9")
    policy.check_address("other.test", "10.9.8.7")  # allowed by network
    for host, address in (("other.test", "203.0.113.9"), ("example.com.evil.test", "127.0.0.1"),
                          ("a.example.com", "169.254.169.254")):
        with pytest.raises(TargetRefused):
            policy.check_address(host, address)
    names_only = TargetPolicy.from_entries(["hooks.test"])
    with pytest.raises(TargetRefused, match="webhook_allowed_targets"):
        names_only.host_of("http://elsewhere.test/")


def test_allowed_targets_from_the_environment(monkeypatch):
    monkeypatch.setenv("NINJA_BRIDGE_WEBHOOK_ALLOWED_TARGETS", "hooks.example.com, 10.0.0.0/8 ,")
    assert load_settings().webhook_allowed_targets == ["hooks.example.com", "10.0.0.0/8"]
    monkeypatch.setenv("NINJA_BRIDGE_WEBHOOK_ALLOWED_TARGETS", "10.0.0.0/33")
    with pytest.raises(SettingsError, match="NINJA_BRIDGE_WEBHOOK_ALLOWED_TARGETS"):
        load_settings()


def test_the_relay_secret_never_shows_in_settings_output():
    settings = load_settings(webhook_secret="very-secret")
    assert "very-secret" not in repr(settings) and "very-secret" not in settings.model_dump_json()


async def test_guarded_resolver_refuses_names_resolving_to_refused_addresses():
    from ninja_bridge.webhook_targets import GuardedResolver

    resolver = GuardedResolver(TargetPolicy.from_entries(["10.0.0.0/8"]))
    try:
        with pytest.raises(TargetRefused):
            await resolver.resolve("localhost", 80)
    finally:
        await resolver.close()
    resolver = GuardedResolver(DEFAULT)
    try:
        assert await resolver.resolve("localhost", 80)
    finally:
        await resolver.close()
    await asyncio.sleep(0)
