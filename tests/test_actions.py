"""The action tables in mappings/ and the pure parts of the action and upload handlers."""

from __future__ import annotations

from types import SimpleNamespace

import pytest

from ninja_bridge.actions import Actions, skipped, unsupported
from ninja_bridge.documents import file_type_error, newest_document
from ninja_bridge.errors import V4Error
from ninja_bridge.ids.translator import KIND_WINDOWS
from ninja_bridge.proxy import ResourceProxy
from ninja_bridge.translate.spec import ActionSpec, MappingError, load_mappings
from ninja_bridge.translate.structural import known_functions


@pytest.fixture
def invoice_resources(mappings, plans):
    """The invoices resource and its variants, wired as the app wires them."""
    resources = {name: ResourceProxy(name, mappings.resources[name], plans, 15)
                 for name in ("invoices", "quotes", "recurring_invoices")}
    invoices = resources["invoices"]
    invoices.variants = {kind: resources[v.resource] for kind, v in invoices.spec.variants.items()}
    return resources

# BaseAPIController::handleAction's list, plus InvoiceApiController's convert (v4-api §6.1).
V4_ACTIONS = {"archive", "delete", "restore", "mark_sent", "markSent", "emailInvoice", "markPaid", "convert"}
# Resources whose v4 update() ran handleAction (and the invoice variants, which v4 served through
# /invoices/{id}). Contacts are left out: the whole contacts route is unsupported (no v5 endpoint).
V4_RESOURCES_WITH_ACTIONS = {"clients", "payments", "credits", "products", "tax_rates", "projects", "expenses",
                             "vendors", "tasks", "invoices", "quotes", "recurring_invoices"}


def test_only_v4_action_names_are_declared(mappings):
    for name, resource in mappings.resources.items():
        actions = resource.actions or {}
        assert set(actions) <= V4_ACTIONS, (name, set(actions) - V4_ACTIONS)
        assert "mark_paid" not in actions  # v4 rejected the snake_case spelling


def test_every_v4_resource_with_actions_archives_restores_deletes(mappings):
    assert V4_RESOURCES_WITH_ACTIONS <= set(mappings.resources)
    for name in V4_RESOURCES_WITH_ACTIONS:
        actions = mappings.resources[name].actions
        assert actions is not None and {"archive", "restore", "delete"} <= set(actions), name
        for action in ("archive", "restore", "delete"):
            spec = actions[action]
            assert (spec.bulk or spec.route) == action, (name, action)


def test_invoice_kinds_and_what_their_actions_become(mappings):
    invoices = mappings.resources["invoices"]
    assert invoices.actions["markPaid"].route == "mark_paid"
    assert invoices.actions["mark_sent"] == invoices.actions["markSent"]
    assert "convert" not in invoices.actions  # only quotes convert
    quote = mappings.resources[invoices.variants["quote"].resource]
    assert quote.v5_path == "quotes" and quote.actions["convert"].answers == "invoice"
    assert quote.actions["markPaid"].bulk is None and quote.actions["markPaid"].route is None  # a v4 no-op
    recurring = mappings.resources[invoices.variants["recurring_invoice"].resource]
    assert recurring.v5_path == "recurring_invoices" and recurring.actions["markSent"].bulk == "start"


@pytest.mark.parametrize("override, key, reason", [
    ("actions: {archive: {bulk: archive, route: archive}}", "resources.clients.actions.archive", "not both"),
    ("actions: {convert: {route: convert, answers: nothing}}", "resources.clients.actions.convert.answers",
     "unknown entity"),
])
def test_bad_action_declarations_are_named(tmp_path, override, key, reason):
    (tmp_path / "local.yaml").write_text(
        f"resources:\n  clients:\n    entity: client\n    v5_path: clients\n    operations: [update]\n    {override}\n")
    with pytest.raises(MappingError) as raised:
        load_mappings(tmp_path, known_functions=known_functions())
    assert any(p.key == key and reason in p.reason for p in raised.value.problems), raised.value.problems


def test_skip_if_matches_v5_values():
    spec = ActionSpec(route="mark_paid", skip_if={"status_id": ["4"], "is_deleted": [True]})
    assert skipped(spec, {"status_id": "4", "is_deleted": False})
    assert skipped(spec, {"status_id": "2", "is_deleted": True})
    assert not skipped(spec, {"status_id": "2", "is_deleted": False})
    assert not skipped(ActionSpec(bulk="archive"), {"status_id": "4"})


def test_unsupported_is_v4s_bare_string_error():
    error = unsupported("mark_paid")
    assert error.status == 400 and error.body == {"error": "Action [mark_paid] is not supported"}


def test_target_finds_the_resource_behind_a_shared_v4_id(invoice_resources, ids, codec):
    invoices = invoice_resources["invoices"]
    exchange = SimpleNamespace(ids=ids)
    invoice = Actions.target(invoices, exchange, "202")
    assert (invoice.resource.name, invoice.path, invoice.v5_id) == ("invoices", f"invoices/{codec.encode(202)}",
                                                                    codec.encode(202))
    quote = Actions.target(invoices, exchange, str(KIND_WINDOWS["quote"][0] + 7))
    assert (quote.resource.name, quote.path) == ("quotes", f"quotes/{codec.encode(7)}") and "convert" in quote.actions
    recurring = Actions.target(invoices, exchange, str(KIND_WINDOWS["recurring_invoice"][0] + 3))
    assert recurring.path == f"recurring_invoices/{codec.encode(3)}" and recurring.actions["markSent"].bulk == "start"


@pytest.mark.parametrize("raw, body", [
    ("0", {"error": "Record not found"}),
    ("abc", {"message": "record does not exist"}),
    (str(2**31), {"message": "record does not exist"}),
])
def test_target_not_found_shapes(invoice_resources, ids, raw, body):
    with pytest.raises(V4Error) as raised:
        Actions.target(invoice_resources["invoices"], SimpleNamespace(ids=ids), raw)
    assert raised.value.status == 404 and raised.value.body == body


def test_newest_document_is_the_one_the_parent_lacked():
    parent = {"documents": [{"id": "old", "created_at": 9}, {"id": "a", "created_at": 5},
                            {"id": "b", "created_at": 7}]}
    assert newest_document(parent, {"old"})["id"] == "b"
    assert newest_document(parent, {"old", "a", "b"}) is None
    assert newest_document(None, set()) is None


@pytest.mark.parametrize("name, ok", [
    ("scan.PDF", True), ("photo.jpg", True), ("photo.tif", True), ("sheet.xlsx", True),
    ("page.webp", False), ("data.csv", False), ("run.exe", False), ("noextension", False),
])
def test_v4_document_types(name, ok):
    assert (file_type_error(name) is None) is ok
