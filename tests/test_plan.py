"""Translation rules as plain functions: v4 bodies to v5 and v5 objects to v4."""

import math

import pytest
from hypothesis import given, settings, strategies as st

from ninja_bridge.translate.plan import Context, TranslationError, parse_includes


def v4(plans, ids, entity, v5_object, includes="", created=False):
    return plans[entity].to_v4(v5_object, parse_includes(includes), Context(ids=ids, created=created))


def test_include_syntax():
    assert parse_includes("invoices.invitations, client ,a:limit(1|2)") == {
        "invoices": {"invitations": {}}, "client": {}, "a": {}}
    assert parse_includes(None) == {}


def test_product_cost_is_v5_price(plans, ids):
    assert plans["product"].to_v5({"product_key": "K", "cost": 9.5, "qty": 2}) == {
        "product_key": "K", "price": 9.5, "quantity": 2}
    out = v4(plans, ids, "product", {"id": "Opnel5aKBz", "price": 9.5, "cost": 4.0, "quantity": 2.0,
                                    "archived_at": 0, "updated_at": 1700000000})
    assert (out["id"], out["cost"], out["qty"], out["archived_at"]) == (3, 9.5, 2, None)
    assert "price" not in out and "quantity" not in out


def test_invoice_custom_values_swap_both_ways(plans, ids):
    v5 = plans["invoice"].to_v5({"custom_value1": 5, "custom_text_value1": "PO-1", "invoice_number": "0007"})
    assert v5 == {"custom_surcharge1": 5, "custom_value1": "PO-1", "number": "0007"}
    back = v4(plans, ids, "invoice", {"id": "VolejRejNm", **v5})
    assert (back["custom_value1"], back["custom_text_value1"], back["invoice_number"]) == (5, "PO-1", "0007")


def test_nested_ids_and_line_items(plans, ids, codec):
    body = {"client_id": "3", "invoice_items": [{"qty": 2, "cost": 10, "task_public_id": 7}]}
    v5 = plans["invoice"].to_v5(body)
    assert v5["client_id"] == codec.encode(3)
    assert v5["line_items"] == [{"quantity": 2, "cost": 10, "task_id": codec.encode(7)}]


def test_client_contacts_and_settings(plans, ids, codec):
    v5 = plans["client"].to_v5({"name": "Acme", "currency_id": 2, "work_phone": "555",
                                "contacts": [{"id": 4, "email": "a@b.c", "send_invoice": True}]})
    assert v5 == {"name": "Acme", "settings": {"currency_id": 2}, "phone": "555",
                  "contacts": [{"id": codec.encode(4), "email": "a@b.c", "send_email": True}]}
    out = v4(plans, ids, "client", {"id": codec.encode(9), "settings": {"currency_id": "2"}, "number": "C-9",
                                    "contacts": [{"id": codec.encode(4), "send_email": True}]})
    assert out["currency_id"] == 2 and out["id_number"] == "C-9" and out["custom_messages"] == "null"
    assert out["contacts"][0]["id"] == 4 and out["contacts"][0]["send_invoice"] is True


def test_status_and_payment_type_tables(plans, ids, codec):
    assert plans["invoice"].to_v5({"invoice_status_id": 6})["status_id"] == 4
    assert v4(plans, ids, "invoice", {"id": codec.encode(1), "status_id": "3"})["invoice_status_id"] == 5
    assert plans["payment"].to_v5({"payment_type_id": 1, "payment_date": "2024-01-02"}) == {
        "type_id": 32, "date": "2024-01-02"}
    out = v4(plans, ids, "payment", {"id": codec.encode(5), "type_id": "2", "date": "2024-01-02",
                                     "paymentables": [{"invoice_id": codec.encode(8)}], "invoices": [{"number": "0008"}]})
    assert (out["payment_type_id"], out["payment_date"], out["invoice_id"], out["invoice_number"]) == (3, "2024-01-02", 8, "0008")
    # v5 writes a payment without a type as type_id "" ((string) null): v4 showed 0.
    assert v4(plans, ids, "payment", {"id": codec.encode(5), "type_id": ""})["payment_type_id"] == 0


def test_user_id_only_on_create(plans, ids, codec):
    obj = {"id": codec.encode(2), "user_id": codec.encode(1)}
    assert "user_id" not in v4(plans, ids, "tax_rate", obj)
    assert v4(plans, ids, "tax_rate", obj, created=True)["user_id"] == 1


def test_includes_follow_v4_defaults_and_requests(plans, ids, codec):
    invoice = {"id": codec.encode(1), "line_items": [{"quantity": 1}, {"quantity": 2}],
               "invitations": [{"id": codec.encode(3), "key": "k", "sent_date": "2024-01-01"}],
               "client": {"id": codec.encode(4), "contacts": []}}
    plain = v4(plans, ids, "invoice", invoice)
    assert [item["id"] for item in plain["invoice_items"]] == [1, 2]
    assert "invitations" not in plain and "client" not in plain
    full = v4(plans, ids, "invoice", invoice, "invitations,client,nonsense")
    assert full["invitations"] == [{"id": 3, "key": "k", "link": "", "sent_date": "2024-01-01", "viewed_date": "2024-01-01"}]
    assert full["client"]["id"] == 4 and full["client"]["contacts"] == []
    assert "nonsense" not in full


def test_upstream_includes_name_only_what_v5_has(plans):
    invoice = plans["invoice"]
    assert sorted(invoice.upstream_includes(parse_includes("invoice_items,invitations,client,payments"))) == [
        "client", "payments"]
    assert plans["payment"].upstream_includes(parse_includes("invoice")) == ["invoices"]
    assert plans["client"].upstream_includes(parse_includes("invoices.invitations")) == []


def test_v5_error_keys_in_v4_names(plans):
    assert plans["invoice"].v4_error_key("line_items.2.quantity") == "invoice_items.2.qty"
    assert plans["invoice"].v4_error_key("number") == "invoice_number"
    assert plans["client"].v4_error_key("contacts.0.send_email") == "contacts.0.send_invoice"
    assert plans["client"].v4_error_key("settings.currency_id") == "currency_id"


def test_bad_ids_in_bodies_are_refused(plans):
    with pytest.raises(TranslationError) as caught:
        plans["invoice"].to_v5({"client_id": "abc"})
    assert caught.value.field == "client_id"
    with pytest.raises(TranslationError):
        plans["invoice"].to_v5({"client_id": True})


# -- round trip: v4 body -> v5 body -> v4 body, for every resource's entity -------------------

def _values(ftype):
    return {
        "int": st.integers(0, 10**6),
        "int_or_null": st.integers(0, 10**6),
        "float": st.floats(-1e6, 1e6, allow_nan=False).map(lambda f: round(f, 2)),
        "bool": st.booleans(),
        "str": st.text(max_size=12),
        "str_or_null": st.text(max_size=12),
        "timestamp": st.integers(1, 2**31 - 1),
        "timestamp_int": st.integers(0, 2**31 - 1),
        "datetime_str": st.sampled_from(["", "2024-01-02 03:04:05"]),
        "raw": st.text(max_size=5),
    }[ftype]


def v4_bodies(mappings, ids, codec, entity_name):
    spec = mappings.entities[entity_name]
    fields = {}
    for name, ftype in spec.v4_fields.items():
        if name in spec.computed or name in spec.sources or ftype == "json_string":
            continue
        if name in spec.ids:
            kind = spec.ids[name]
            fields[name] = st.integers(1, 2**29 - 2).map(lambda key, kind=kind: ids.to_v4(kind, codec.encode(key)))
        elif name in spec.values:
            table = mappings.tables[spec.values[name]]
            stable = sorted(v for v, five in table.to_v5.items() if table.to_v4.get(five) == v)
            fields[name] = st.sampled_from(stable)
        else:
            fields[name] = _values(ftype)
    return st.fixed_dictionaries({}, optional=fields)


RESOURCE_ENTITIES = ["client", "contact", "invoice", "invoice_item", "payment", "product", "tax_rate"]


@pytest.mark.parametrize("entity", RESOURCE_ENTITIES)
def test_v4_to_v5_to_v4_round_trip(mappings, plans, ids, codec, entity):
    @settings(max_examples=60, deadline=None)
    @given(body=v4_bodies(mappings, ids, codec, entity))
    def check(body):
        v5 = plans[entity].to_v5(body)
        back = plans[entity].to_v4(v5, {}, Context(ids=ids))
        for key, value in body.items():
            if isinstance(value, float):
                assert math.isclose(back[key], value), key
            else:
                assert back[key] == value, key

    check()
