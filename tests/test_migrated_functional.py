"""A migrated account end to end: the v4 API as it was before the migration, the same company
migrated into the v5 sandbox with new keys, `ninja-bridge idmap build` / `tokens add` through the
CLI, and a legacy client that still holds pre-migration ids and its old token, talking to the proxy.
"""

from __future__ import annotations

import asyncio
import io
import json
import os
import stat
import sys

import orjson
import pytest
import structlog
from click.testing import CliRunner

from ninja_bridge import errors
from ninja_bridge.app import create_app
from ninja_bridge.cli import main
from ninja_bridge.config import load_settings
from ninja_bridge.ids.idmap import DEFAULT_NATIVE_BASE
from ninja_bridge.ids.stores import open_store
from ninja_bridge.observability import configure_logging
from ninja_bridge.sandbox import SANDBOX_TOKEN
from ninja_bridge.sandbox import create_app as create_sandbox
from ninja_bridge.sandbox.v4fixture import V4_TOKEN, create_v4_app, export_document


async def cli(*args: str):
    """The CLI in a worker thread (it runs its own event loop for the HTTP sources)."""
    result = await asyncio.to_thread(CliRunner().invoke, main, list(args))
    return result


@pytest.fixture
def migrated_app():
    return create_sandbox(token=SANDBOX_TOKEN, migrated=True)


@pytest.fixture
def fixture(migrated_app):
    return migrated_app["v4_fixture"]


@pytest.fixture
async def v5_url(aiohttp_server, migrated_app):
    server = await aiohttp_server(migrated_app, host="127.0.0.1")
    return str(server.make_url("")).rstrip("/")


@pytest.fixture
async def v4_url(aiohttp_server, fixture):
    server = await aiohttp_server(create_v4_app(fixture), host="127.0.0.1")
    return str(server.make_url("")).rstrip("/")


@pytest.fixture
async def built_map(tmp_path, v4_url, v5_url):
    path = tmp_path / "idmap.sqlite3"
    result = await cli("idmap", "build", "--idmap", str(path), "--v5-url", v5_url, "--v5-token", SANDBOX_TOKEN,
                       "--v4-url", v4_url, "--v4-token", V4_TOKEN)
    assert result.exit_code == 0, result.output
    return path


@pytest.fixture
async def token_map(tmp_path):
    path = tmp_path / "tokens.json"
    result = await cli("tokens", "add", "--token-map", str(path), "--label", "legacy ERP",
                       "--v4-token", V4_TOKEN, "--v5-token", SANDBOX_TOKEN)
    assert result.exit_code == 0, result.output
    return path


@pytest.fixture
async def legacy(aiohttp_client, v5_url, built_map, token_map):
    """The legacy integration: old token, old ids, only the base URL changed."""
    settings = load_settings(upstream=v5_url, idmap=str(built_map), token_map=token_map,
                             token_map_passthrough=False, upstream_total_timeout=10)
    return await aiohttp_client(create_app(settings), headers={"X-Ninja-Token": V4_TOKEN})


# -- building the map ----------------------------------------------------------------------------

async def test_build_rediscovers_every_pair_the_migration_threw_away(built_map, fixture):
    stored = open_store(built_map).load()
    assert sorted(stored.pairs) == sorted(fixture.truth)
    assert stored.native_base == DEFAULT_NATIVE_BASE
    kinds = {pair.kind for pair in stored.pairs}
    assert {"client", "contact", "invoice", "quote", "recurring_invoice", "credit", "payment", "product",
            "tax_rate", "user", "vendor", "project", "invitation", "expense_category", "expense", "task"} <= kinds


async def test_build_is_idempotent_and_reports_per_entity(tmp_path, built_map, v4_url, v5_url, fixture):
    report = tmp_path / "report.json"
    result = await cli("idmap", "build", "--idmap", str(built_map), "--v5-url", v5_url, "--v5-token", SANDBOX_TOKEN,
                       "--v4-url", v4_url, "--v4-token", V4_TOKEN, "--report", str(report), "--strict")
    assert result.exit_code == 0, result.output
    assert f"wrote {len(fixture.truth)} pairs" in result.output
    assert sorted(open_store(built_map).load().pairs) == sorted(fixture.truth)
    rows = {row["kind"]: row for row in json.loads(report.read_text())}
    assert rows["client"]["matched"] == 5 and rows["invoice"]["matched"] == 8
    assert all(not r["unmatched_v4"] and not r["unmatched_v5"] and not r["ambiguous"] for r in rows.values())


async def test_ambiguous_records_are_listed_never_guessed(tmp_path, migrated_app, v4_url, v5_url, fixture):
    from ninja_bridge.sandbox import operations

    store = migrated_app["store"]
    twin = operations.create(store, "products", {"product_key": "LOGO", "notes": "a second LOGO", "price": 1})
    path = tmp_path / "map.sqlite3"
    result = await cli("idmap", "build", "--idmap", str(path), "--v5-url", v5_url, "--v5-token", SANDBOX_TOKEN,
                       "--v4-url", v4_url, "--v4-token", V4_TOKEN, "--strict")
    assert result.exit_code == 1
    logo_v4 = next(p["id"] for p in fixture.lists["products"] if p["product_key"] == "LOGO")
    assert "product: ambiguous, not mapped" in result.output and store.encode(twin["id"]) in result.output
    mapped_products = {p.v4_id for p in open_store(path).load().pairs if p.kind == "product"}
    assert logo_v4 not in mapped_products and len(mapped_products) == len(fixture.lists["products"]) - 1


async def test_build_from_a_v4_export_file(tmp_path, v5_url, fixture):
    export = tmp_path / "v4-export.json"
    export.write_bytes(orjson.dumps(export_document(fixture)))
    path = tmp_path / "map.sqlite3"
    result = await cli("idmap", "build", "--idmap", str(path), "--v5-url", v5_url, "--v5-token", SANDBOX_TOKEN,
                       "--v4-export", str(export))
    assert result.exit_code == 0, result.output
    pairs = set(open_store(path).load().pairs)
    assert pairs <= set(fixture.truth)
    for kind in ("client", "contact", "invoice", "quote", "recurring_invoice", "payment", "product", "user"):
        assert {p for p in fixture.truth if p.kind == kind} <= pairs, kind
    # The export has no vendors, credits or invitations: reported, not invented.
    assert "vendor: v5" in result.output and "has no v4 record" in result.output
    assert not any(p.kind in ("vendor", "credit", "invitation") for p in pairs)


async def test_rebuild_after_a_forced_remigration_replaces_every_pair(tmp_path, aiohttp_server, built_map, v4_url,
                                                                       fixture):
    remigrated = create_sandbox(token=SANDBOX_TOKEN, migrated=True, key_shift=20_000)
    server = await aiohttp_server(remigrated, host="127.0.0.1")
    old = set(open_store(built_map).load().pairs)
    result = await cli("idmap", "build", "--idmap", str(built_map), "--v5-url", str(server.make_url("")).rstrip("/"),
                       "--v5-token", SANDBOX_TOKEN, "--v4-url", v4_url, "--v4-token", V4_TOKEN)
    assert result.exit_code == 0, result.output
    new = set(open_store(built_map).load().pairs)
    assert new == set(remigrated["v4_fixture"].truth)
    assert {(p.space, p.v4_id) for p in new} == {(p.space, p.v4_id) for p in old}  # same legacy ids
    assert not {p.v5_id for p in new} & {p.v5_id for p in old}  # every v5 id changed: no stale pair kept


async def test_import_export_show_round_trip(tmp_path, built_map, fixture, codec):
    as_csv, as_json = tmp_path / "map.csv", tmp_path / "map.json"
    assert (await cli("idmap", "export", "--idmap", str(built_map), str(as_csv))).exit_code == 0
    assert (await cli("idmap", "export", "--idmap", str(built_map), str(as_json))).exit_code == 0
    assert as_csv.read_text().splitlines()[0] == "space,v4_id,kind,v5_id"
    assert len(json.loads(as_json.read_text())["pairs"]) == len(fixture.truth)
    fresh = tmp_path / "fresh.sqlite3"
    result = await cli("idmap", "import", "--idmap", str(fresh), str(as_csv))
    assert result.exit_code == 0, result.output
    assert sorted(open_store(fresh).load().pairs) == sorted(fixture.truth)
    # An operator's fix: point legacy client 1 at another v5 client; the old owner of that v5 id goes.
    other = codec.encode(999_999)
    fix = tmp_path / "fix.json"
    fix.write_text(json.dumps({"pairs": [{"space": "client", "v4_id": 1, "kind": "client", "v5_id": other}]}))
    assert (await cli("idmap", "import", "--idmap", str(fresh), str(fix))).exit_code == 0
    shown = await cli("idmap", "show", "--idmap", str(fresh), "--v4", "client:1")
    assert shown.output.strip() == f"client 1 <-> client {other}"
    summary = await cli("idmap", "show", "--idmap", str(fresh))
    assert "client" in summary.output and str(DEFAULT_NATIVE_BASE) in summary.output


@pytest.mark.parametrize("row,reason", [
    ({"space": "client", "v4_id": DEFAULT_NATIVE_BASE + 1, "kind": "client"}, "inside the native range"),
    ({"space": "client", "v4_id": 2**31, "kind": "client"}, "2^31-1"),
    ({"space": "client", "v4_id": "seven", "kind": "client"}, "not a positive integer"),
])
async def test_import_refuses_bad_pairs_and_writes_nothing(tmp_path, built_map, codec, row, reason):
    before = open_store(built_map).load().pairs
    bad = tmp_path / "bad.json"
    bad.write_text(json.dumps([{**row, "v5_id": codec.encode(5)}]))
    result = await cli("idmap", "import", "--idmap", str(built_map), str(bad))
    assert result.exit_code == 1 and reason in result.output
    assert open_store(built_map).load().pairs == before


# -- the legacy client through the proxy ---------------------------------------------------------

async def test_legacy_reads_use_pre_migration_ids(legacy, fixture, migrated_app):
    store = migrated_app["store"]
    northwind = next(c for c in fixture.lists["clients"] if c["name"] == "Northwind Traders")
    response = await legacy.get(f"/api/v1/clients/{northwind['id']}")
    assert response.status == 200, await response.text()
    client = (await response.json())["data"]
    assert client["id"] == northwind["id"] and client["name"] == "Northwind Traders"
    assert sorted(c["id"] for c in client["contacts"]) == sorted(c["id"] for c in northwind["contacts"])
    assert client["id_number"] == "NW-1001"  # v5 `number`, where the migration put it

    listed = (await (await legacy.get("/api/v1/clients?per_page=50")).json())["data"]
    assert sorted(c["id"] for c in listed) == sorted(c["id"] for c in fixture.lists["clients"])

    v4_invoice = next(i for i in fixture.lists["invoices"] if i["invoice_type_id"] == 1 and not i["is_recurring"]
                      and i["client_id"] == northwind["id"])
    invoice = (await (await legacy.get(f"/api/v1/invoices/{v4_invoice['id']}")).json())["data"]
    assert invoice["id"] == v4_invoice["id"] and invoice["client_id"] == northwind["id"]
    assert invoice["invoice_number"] == v4_invoice["invoice_number"]
    filtered = (await (await legacy.get(f"/api/v1/invoices?client_id={northwind['id']}")).json())["data"]
    assert v4_invoice["id"] in {i["id"] for i in filtered} and {i["client_id"] for i in filtered} == {northwind["id"]}
    # v4 read quotes through /invoices/{id}: the legacy id finds the quote in v5's separate table.
    quote = next(i for i in fixture.lists["invoices"] if i["invoice_type_id"] == 2)
    shown = (await (await legacy.get(f"/api/v1/invoices/{quote['id']}")).json())["data"]
    assert shown["id"] == quote["id"] and shown["is_quote"] and shown["invoice_number"] == quote["invoice_number"]
    assert len(store.table("invoices")) == 8


async def test_legacy_writes_with_foreign_keys_and_new_records_get_native_ids(legacy, fixture, migrated_app):
    store = migrated_app["store"]
    greenleaf = next(c for c in fixture.lists["clients"] if c["name"] == "Greenleaf Bakery")
    response = await legacy.post("/api/v1/invoices", json={
        "client_id": greenleaf["id"], "invoice_items": [{"product_key": "LOGO", "qty": 1, "cost": 850}]})
    assert response.status == 200, await response.text()
    created = (await response.json())["data"]
    assert created["client_id"] == greenleaf["id"]
    assert created["id"] >= DEFAULT_NATIVE_BASE
    assert created["id"] not in {p.v4_id for p in fixture.truth if p.space == "invoice"}
    raw = max(store.table("invoices"), key=lambda r: r["id"])
    v5_greenleaf = next(p.v5_id for p in fixture.truth if p.kind == "client" and p.v4_id == greenleaf["id"])
    assert store.encode(raw["client_id"]) == v5_greenleaf  # the foreign key reached v5 translated
    again = (await (await legacy.get(f"/api/v1/invoices/{created['id']}")).json())["data"]
    assert again["id"] == created["id"] and again["client_id"] == greenleaf["id"]

    paid = next(i for i in fixture.lists["invoices"] if i["invoice_type_id"] == 1 and not i["is_recurring"]
                and i["client_id"] == greenleaf["id"] and not i["is_deleted"])
    payment = await legacy.post("/api/v1/payments", json={"invoice_id": paid["id"], "amount": 10})
    assert payment.status == 200, await payment.text()
    body = (await payment.json())["data"]
    assert body["invoice_id"] == paid["id"] and body["id"] >= DEFAULT_NATIVE_BASE

    new_client = (await (await legacy.post("/api/v1/clients", json={"name": "After Cut-over Ltd"})).json())["data"]
    assert new_client["id"] >= DEFAULT_NATIVE_BASE
    shown = (await (await legacy.get(f"/api/v1/clients/{new_client['id']}")).json())["data"]
    assert shown["name"] == "After Cut-over Ltd"


async def test_unknown_legacy_ids_are_not_found(legacy):
    assert (await legacy.get("/api/v1/clients/999")).status == 404  # below the native base, not mapped
    assert (await legacy.get("/api/v1/clients/1")).status == 200


async def test_tokens_swap_and_never_leak(legacy, token_map, monkeypatch):
    document = json.loads(token_map.read_text())
    assert stat.S_IMODE(os.stat(token_map).st_mode) == 0o600
    assert V4_TOKEN not in token_map.read_text()  # only its hash
    assert document["tokens"][0]["v5_token"] == SANDBOX_TOKEN
    logs = io.StringIO()
    monkeypatch.setattr(sys, "stderr", logs)
    saved = structlog.get_config()
    configure_logging("json", "debug")
    try:
        assert (await legacy.get("/api/v1/products")).status == 200
        refused = await legacy.get("/api/v1/products", headers={"X-Ninja-Token": "not-a-mapped-token"})
        assert refused.status == errors.invalid_token().status  # v4's answer, before any v5 call
        assert "not-a-mapped-token" not in await refused.text()
    finally:
        structlog.configure(**saved)
    written = logs.getvalue()
    assert written.count('"request"') == 2  # the access log did run
    for secret in (V4_TOKEN, SANDBOX_TOKEN, "not-a-mapped-token"):
        assert secret not in written


async def test_without_the_map_the_old_ids_do_not_work(aiohttp_client, v5_url, fixture):
    """Why the map exists: the plain scheme reads legacy id 1 as v5 key 1, which is nobody."""
    settings = load_settings(upstream=v5_url, upstream_total_timeout=10)
    plain = await aiohttp_client(create_app(settings), headers={"X-Ninja-Token": SANDBOX_TOKEN})
    assert (await plain.get(f"/api/v1/clients/{fixture.lists['clients'][0]['id']}")).status == 404


async def test_new_quotes_share_the_invoice_space_without_colliding(legacy, fixture):
    """v4 kept invoices and quotes in one id space: a quote created after cut-over gets an id from the
    quote window above the base, never a legacy id and never a new invoice's id."""
    from ninja_bridge.ids.translator import kind_windows

    client = fixture.lists["clients"][0]["id"]
    items = [{"product_key": "LOGO", "qty": 1, "cost": 850}]
    quote = (await (await legacy.post("/api/v1/invoices", json={
        "client_id": client, "is_quote": True, "invoice_items": items})).json())["data"]
    invoice = (await (await legacy.post("/api/v1/invoices", json={
        "client_id": client, "invoice_items": items})).json())["data"]
    quote_start, quote_size = kind_windows(DEFAULT_NATIVE_BASE)["quote"]
    assert quote_start < quote["id"] < quote_start + quote_size and quote["is_quote"]
    assert DEFAULT_NATIVE_BASE < invoice["id"] < quote_start and not invoice["is_quote"]
    legacy_ids = {p.v4_id for p in fixture.truth if p.space == "invoice"}
    assert quote["id"] not in legacy_ids and invoice["id"] not in legacy_ids
    reread = (await (await legacy.get(f"/api/v1/invoices/{quote['id']}")).json())["data"]
    assert reread["id"] == quote["id"] and reread["is_quote"] and reread["client_id"] == client


async def test_id_map_hits_and_misses_are_scraped(legacy, fixture):
    legacy_client = fixture.lists["clients"][0]["id"]
    assert (await legacy.get(f"/api/v1/clients/{legacy_client}")).status == 200
    created = (await (await legacy.post("/api/v1/products", json={"product_key": "NEW-AFTER-CUTOVER"})).json())["data"]
    assert created["id"] >= DEFAULT_NATIVE_BASE
    text = await (await legacy.get("/metrics")).text()
    counts = {line.split()[0]: float(line.split()[1]) for line in text.splitlines()
              if line.startswith("ninja_bridge_idmap_lookups_total")}
    assert counts['ninja_bridge_idmap_lookups_total{result="hit"}'] >= 2  # the path id and the answer's id
    assert counts['ninja_bridge_idmap_lookups_total{result="miss"}'] >= 1  # the new product
