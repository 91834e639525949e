"""Whatever a client sends, the sandbox answers like v5 (200, 400, 401, 422), never with a crash."""

from __future__ import annotations

import orjson
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ninja_bridge.sandbox import SandboxStore, create_app, operations
from ninja_bridge.sandbox.entities import ENTITIES, render
from ninja_bridge.sandbox.errors import ApiError
from ninja_bridge.sandbox.protocol import clean_input

WRITABLE = ["clients", "invoices", "quotes", "credits", "recurring_invoices", "payments", "products", "tax_rates",
            "tasks", "task_statuses", "projects", "expenses", "expense_categories", "vendors", "webhooks"]

json_scalars = st.one_of(st.none(), st.booleans(), st.integers(-10, 10**6), st.floats(allow_nan=False,
                         allow_infinity=False, width=32), st.text(max_size=12),
                         st.sampled_from(["Volej25ejN", "VolejRejNm", "2024-09-01", "0001", "1e3", "-5"]))
json_values = st.recursive(json_scalars, lambda inner: st.one_of(
    st.lists(inner, max_size=3), st.dictionaries(st.text(max_size=8), inner, max_size=3)), max_leaves=8)


def payloads(kind: str):
    keys = st.sampled_from(sorted(set(ENTITIES[kind].fields) | {"contacts", "invitations", "line_items", "invoices",
                                                                  "credits", "password", "event_id"}))
    nested = st.lists(st.dictionaries(st.sampled_from(["id", "email", "amount", "invoice_id", "credit_id",
                                                       "client_contact_id", "quantity", "cost", "task_id",
                                                       "is_primary", "send_email", "password"]),
                                      json_scalars, max_size=4), max_size=3)
    return st.dictionaries(keys, st.one_of(json_values, nested), max_size=8)


STORE_APP = create_app(seed=True)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(kind=st.sampled_from(WRITABLE), data=st.data())
def test_create_and_update_never_crash(kind, data):
    store: SandboxStore = STORE_APP["store"]
    store.recent_writes.clear()
    payload = clean_input(orjson.loads(orjson.dumps(data.draw(payloads(kind)))))
    entity = ENTITIES[kind]
    try:
        record = operations.create(store, kind, operations.decode_body(store, entity, payload))
    except ApiError as error:
        assert error.status in (400, 401, 422)
        return
    orjson.dumps(render(store, entity, record, {name: {} for name in entity.includes}))
    try:
        operations.update(store, kind, record, operations.decode_body(store, entity, payload))
    except ApiError as error:
        assert error.status in (400, 422)
    orjson.dumps(render(store, entity, record, {name: {} for name in entity.includes}))


def test_the_seed_is_deterministic():
    def snapshot() -> bytes:
        store = create_app(seed=True)["store"]
        return orjson.dumps({kind: [render(store, ENTITIES[kind], row) for row in store.table(kind)]
                             for kind in WRITABLE + ["documents", "users"]})

    assert snapshot() == snapshot()
