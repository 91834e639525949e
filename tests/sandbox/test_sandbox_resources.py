"""Part 1 resources: clients, invoices, products, tax rates, payments, users; filters, 422s, bulk."""

from __future__ import annotations

import re

from ninja_bridge.ids.codec import HashidCodec

CODEC = HashidCodec("")
H = CODEC.encode


def client_key(store, name: str) -> int:
    return next(row["id"] for row in store.table("clients") if row["name"] == name)


def invoice_by_number(store, number: str) -> dict:
    return next(row for row in store.table("invoices") if row["number"] == number)


async def data(response, status: int = 200):
    assert response.status == status, await response.text()
    return (await response.json())["data"]


# --- filters -------------------------------------------------------------------------------


async def test_lists_include_archived_and_deleted_by_default(client):
    numbers = [i["number"] for i in await data(await client.get("/api/v1/invoices"))]
    # insertion order, nothing hidden; deleting an invoice renames it (MarkInvoiceDeleted)
    assert numbers == ["0001", "0002", "0003", "0004", "0005", "0006", "0007_Deleted", "0008"]


async def test_status_filter(client):
    active = await data(await client.get("/api/v1/invoices?status=active"))
    archived = await data(await client.get("/api/v1/invoices?status=archived"))
    deleted = await data(await client.get("/api/v1/invoices?status=deleted"))
    both = await data(await client.get("/api/v1/invoices?status=archived,deleted"))
    assert len(active) == 6
    assert [i["number"] for i in archived] == ["0006"]
    assert [i["number"] for i in deleted] == ["0007_Deleted"]
    assert [i["number"] for i in both] == ["0006", "0007_Deleted"]


async def test_client_id_number_and_email_filters(client, store):
    northwind = H(client_key(store, "Northwind Traders"))
    invoices = await data(await client.get(f"/api/v1/invoices?client_id={northwind}"))
    assert [i["number"] for i in invoices] == ["0001", "0002"]
    assert await data(await client.get("/api/v1/invoices?client_id=101")) == []  # must be a hash
    assert [i["number"] for i in await data(await client.get("/api/v1/invoices?number=0003"))] == ["0003"]
    assert await data(await client.get("/api/v1/invoices?invoice_number=0003")) != []  # unknown: ignored
    by_email = await data(await client.get("/api/v1/clients?email=liam.chen@blueharbor.example"))
    assert [c["name"] for c in by_email] == ["Blue Harbor Consulting"]
    by_id_number = await data(await client.get("/api/v1/clients?id_number=SOG-77"))
    assert [c["name"] for c in by_id_number] == ["Summit Outdoor Gear"]
    by_name = await data(await client.get("/api/v1/clients?name=harbor"))
    assert [c["name"] for c in by_name] == ["Blue Harbor Consulting"]
    products = await data(await client.get("/api/v1/products?product_key=LOGO"))
    assert [p["notes"] for p in products] == ["Logo design, three concepts and two revisions"]


async def test_updated_at_filter_and_sort(client, store):
    invoice = invoice_by_number(store, "0004")
    await client.put(f"/api/v1/invoices/{H(invoice['id'])}", json={"po_number": "PO-9"})
    changed = await data(await client.get(f"/api/v1/invoices?updated_at={invoice['updated_at']}"))
    assert [i["number"] for i in changed] == ["0004"]
    by_amount = await data(await client.get("/api/v1/invoices?sort=amount|desc"))
    amounts = [i["amount"] for i in by_amount]
    assert amounts == sorted(amounts, reverse=True)
    deleted_only = await data(await client.get("/api/v1/invoices?is_deleted=1"))
    assert [i["number"] for i in deleted_only] == ["0007_Deleted"]
    # v5 binds the string and MySQL reads 'true' as 0: "is_deleted=true" lists the rows NOT deleted
    not_deleted = await data(await client.get("/api/v1/invoices?is_deleted=true"))
    assert len(not_deleted) == 7 and "0007_Deleted" not in [i["number"] for i in not_deleted]


# --- clients --------------------------------------------------------------------------------


async def test_create_client_with_contacts(client, store):
    created = await data(await client.post("/api/v1/clients", json={
        "name": "Harvest Co-op", "country_id": 840,
        "contacts": [{"first_name": "Ada", "last_name": "Ng", "email": "ada@harvest.example"},
                     {"first_name": "Bo", "email": "bo@harvest.example"}],
    }))
    assert created["name"] == "Harvest Co-op" and created["country_id"] == "840"
    assert created["number"] == "0006" and created["display_name"] == "Harvest Co-op"
    assert [c["email"] for c in created["contacts"]] == ["ada@harvest.example", "bo@harvest.example"]
    assert [c["is_primary"] for c in created["contacts"]] == [True, False]
    assert len(created["contacts"][0]["contact_key"]) == 32
    # ClientSettings::defaults(): no currency until one is set (it is inherited from the company)
    assert created["settings"] == {"entity": "App\\Models\\Client", "industry_id": "", "size_id": ""}
    no_country = await data(await client.post("/api/v1/clients", json={"name": "Nowhere", "settings": {
        "currency_id": "3", "language_id": ""}}))
    assert no_country["country_id"] == "840"  # the company's country
    assert no_country["settings"]["currency_id"] == "3" and "language_id" not in no_country["settings"]
    assert CODEC.decode(created["id"]) == 106


async def test_client_update_replaces_contacts_and_drops_numeric_contact_ids(client, store):
    key = client_key(store, "Greenleaf Bakery")
    before = await data(await client.get(f"/api/v1/clients/{H(key)}"))
    sofia, marco = before["contacts"]
    updated = await data(await client.put(f"/api/v1/clients/{H(key)}", json={
        "contacts": [{"id": sofia["id"], "first_name": "Sofia", "last_name": "Bianchi", "email": sofia["email"]},
                     {"id": CODEC.decode(marco["id"]), "first_name": "Marco", "email": marco["email"]}],
    }))
    contacts = updated["contacts"]
    assert contacts[0]["id"] == sofia["id"] and contacts[0]["last_name"] == "Bianchi"
    # the integer id was dropped, so Marco was recreated under a new key (as v5 does)
    assert contacts[1]["email"] == marco["email"] and contacts[1]["id"] != marco["id"]
    assert len(contacts) == 2


async def test_client_validation(client):
    response = await client.post("/api/v1/clients", json={"name": "X", "contacts": [{"email": "not-an-email"}]})
    assert response.status == 422
    assert await response.json() == {
        "message": "The given data was invalid.",
        "errors": {"contacts.0.email": ["The contacts.0.email field must be a valid email address."]},
    }
    response = await client.post("/api/v1/clients", json={"name": "Dup", "number": "0001", "id_number": "nw-1001"})
    assert (await response.json())["errors"] == {
        "number": ["The number has already been taken."], "id_number": ["The id number has already been taken."],
    }
    response = await client.post("/api/v1/clients", json={
        "country_id": "US", "contacts": [{"email": "a@x.example", "password": "short"}, {"email": "A@x.example"}],
    })
    assert (await response.json())["errors"] == {
        "contacts.0.email": ["The contacts.0.email field has a duplicate value."],
        "contacts.0.password": ["The contacts.0.password field must be at least 7 characters."],
        "contacts.1.email": ["The contacts.1.email field has a duplicate value."],
        "country_id": ["The country id field must be an integer."],
    }


# --- invoices -------------------------------------------------------------------------------


async def test_create_invoice_computes_amounts_and_invitations(client, store):
    summit = client_key(store, "Summit Outdoor Gear")
    invoice = await data(await client.post("/api/v1/invoices", json={
        "client_id": H(summit), "date": "2024-09-10", "discount": 10, "tax_name1": "Sales Tax", "tax_rate1": 10,
        "line_items": [{"product_key": "DEV-HOUR", "quantity": 3, "cost": 100, "id": 77},
                       {"product_key": "DOMAIN", "quantity": 2, "cost": 25, "discount": 10}],
    }))
    # lines: 300 + (50 - 10%) = 345; invoice discount 10% -> 310.5; tax 10% -> 341.55
    assert invoice["amount"] == 341.55 and invoice["balance"] == 341.55 and invoice["total_taxes"] == 31.05
    assert invoice["status_id"] == "1" and invoice["paid_to_date"] == 0.0
    assert [line["line_total"] for line in invoice["line_items"]] == [300.0, 45.0]
    assert "id" not in invoice["line_items"][0]
    assert invoice["number"] == "0009"
    contact = store.table("client_contacts").where(client_id=summit)[0]
    assert [CODEC.decode(i["client_contact_id"]) for i in invoice["invitations"]] == [contact["id"]]
    assert len(invoice["invitations"][0]["key"]) == 32


async def test_invoice_client_id_integer_is_a_raw_key(client, store):
    # a proxy that forgets to hash sends an integer: v5 takes it as a raw primary key
    invoice = await data(await client.post("/api/v1/invoices", json={"client_id": 103, "line_items": []}))
    assert CODEC.decode(invoice["client_id"]) == 103
    response = await client.post("/api/v1/invoices", json={"client_id": 5, "line_items": []})
    assert response.status == 422
    assert (await response.json())["errors"] == {"client_id": ["The selected client id is invalid."]}


async def test_invoice_validation(client, store):
    response = await client.post("/api/v1/invoices", json={"line_items": []})
    assert response.status == 422
    assert (await response.json())["errors"] == {"client_id": ["The client id field is required."]}
    response = await client.post("/api/v1/invoices", json={"client_id": "garbage", "number": "0001",
                                                            "date": "next week", "discount": "ten"})
    assert (await response.json())["errors"] == {
        "number": ["The number has already been taken."],
        "client_id": ["The selected client id is invalid."],
        "date": ["The date field must be a valid date."],
        "discount": ["The discount field must be a number."],
    }
    # `date:Y-m-d` is Laravel's plain `date` rule: any parseable date passes and is stored as Y-m-d
    invoice = await data(await client.post("/api/v1/invoices", json={"client_id": H(101), "date": "09/10/2024"}))
    assert invoice["date"] == "2024-09-10"


async def test_update_invoice_and_deleted_record_refused(client, store):
    invoice = invoice_by_number(store, "0002")
    updated = await data(await client.put(f"/api/v1/invoices/{H(invoice['id'])}", json={
        "line_items": [{"product_key": "HOSTING-Y", "quantity": 2, "cost": 490}],
    }))
    assert updated["amount"] == 980.0 and updated["balance"] == 980.0
    northwind = store.table("clients").get(invoice["client_id"])
    assert northwind["balance"] == 980.0  # the client's balance follows its sent invoices
    deleted = invoice_by_number(store, "0007_Deleted")
    response = await client.put(f"/api/v1/invoices/{H(deleted['id'])}", json={"po_number": "x"})
    assert response.status == 400
    assert await response.json() == {
        "message": "Record is deleted and cannot be edited. Restore the record to enable editing",
    }


async def test_delete_archives_flags_and_renames(client, store):
    invoice = invoice_by_number(store, "0004")
    deleted = await data(await client.delete(f"/api/v1/invoices/{H(invoice['id'])}"))
    assert deleted["is_deleted"] is True and deleted["archived_at"] > 0
    assert deleted["number"] == "0004_Deleted"
    restored = await data(await client.get(f"/api/v1/invoices/{H(invoice['id'])}/restore"))
    assert restored["is_deleted"] is False and restored["archived_at"] == 0
    assert restored["number"] == "0004"


async def test_deleting_a_paid_invoice_takes_its_payment_along(client, store):
    invoice = invoice_by_number(store, "0001")  # paid in full by one payment
    customer = store.table("clients").get(invoice["client_id"])
    payment_key = next(link["payment_id"] for link in store.table("paymentables")
                       if link["paymentable_id"] == invoice["id"] and link["paymentable_type"] == "invoices")
    assert customer["paid_to_date"] == 1420.0
    await client.delete(f"/api/v1/invoices/{H(invoice['id'])}")
    payment = await data(await client.get(f"/api/v1/payments/{H(payment_key)}"))
    assert payment["is_deleted"] is True and payment["amount"] == 0.0 and payment["paymentables"] == []
    assert customer["paid_to_date"] == 0.0 and customer["balance"] == 540.0
    await client.get(f"/api/v1/invoices/{H(invoice['id'])}/restore")
    payment = await data(await client.get(f"/api/v1/payments/{H(payment_key)}"))
    assert payment["is_deleted"] is False and payment["amount"] == 1420.0 and len(payment["paymentables"]) == 1
    assert customer["paid_to_date"] == 1420.0


# --- payments -------------------------------------------------------------------------------


async def test_payment_applies_to_invoice_and_client(client, store):
    invoice = invoice_by_number(store, "0008")  # sent, 3745.45 owed
    client_before = dict(store.table("clients").get(invoice["client_id"]))
    payment = await data(await client.post("/api/v1/payments", json={
        "client_id": H(invoice["client_id"]), "type_id": "1", "date": "2024-09-20",
        "invoices": [{"invoice_id": H(invoice["id"]), "amount": 745.45}],
    }))
    assert payment["amount"] == 745.45 and payment["applied"] == 745.45  # amount defaults to the sum
    assert payment["paymentables"][0]["invoice_id"] == H(invoice["id"])
    assert payment["status_id"] == "4" and payment["type_id"] == "1"
    shown = await data(await client.get(f"/api/v1/invoices/{H(invoice['id'])}"))
    assert shown["balance"] == 3000.0 and shown["paid_to_date"] == 745.45 and shown["status_id"] == "3"
    customer = store.table("clients").get(invoice["client_id"])
    assert customer["balance"] == round(client_before["balance"] - 745.45, 2)
    assert customer["paid_to_date"] == round(client_before["paid_to_date"] + 745.45, 2)

    await client.post("/api/v1/payments", json={
        "client_id": H(invoice["client_id"]), "amount": 3000,
        "invoices": [{"invoice_id": H(invoice["id"]), "amount": 3000}],
    })
    shown = await data(await client.get(f"/api/v1/invoices/{H(invoice['id'])}"))
    assert shown["balance"] == 0.0 and shown["status_id"] == "4"


async def test_deleting_a_payment_gives_the_money_back(client, store):
    invoice = invoice_by_number(store, "0003")  # partial: 1000 of 1948.5 paid
    payment = next(p for p in store.table("payments") if p["amount"] == 1000.0)
    deleted = await data(await client.delete(f"/api/v1/payments/{H(payment['id'])}"))
    assert deleted["status_id"] == "2" and deleted["paymentables"] == []  # cancelled, links soft-deleted
    assert invoice["balance"] == 1948.5 and invoice["paid_to_date"] == 0.0 and invoice["status_id"] == "2"
    # "we cannot restore a deleted payment"
    restored = await data(await client.get(f"/api/v1/payments/{H(payment['id'])}"))
    body = await (await client.post("/api/v1/payments/bulk", json={"action": "restore", "ids": [restored["id"]]})).json()
    assert body["data"][0]["is_deleted"] is True and invoice["paid_to_date"] == 0.0


async def test_payment_validation(client, store):
    response = await client.post("/api/v1/payments", json={"amount": 10})
    assert response.status == 422
    assert (await response.json())["errors"] == {"client_id": ["The client id field is required."]}
    other_clients_invoice = invoice_by_number(store, "0002")
    response = await client.post("/api/v1/payments", json={
        "client_id": H(client_key(store, "Lumen Analytics GmbH")),
        "invoices": [{"invoice_id": H(other_clients_invoice["id"]), "amount": 5}, {"invoice_id": "nope", "amount": 1}],
    })
    # ValidInvoicesRules judges the whole list and reports its first problem on every line
    assert (await response.json())["errors"] == {
        "invoices.0.invoice_id": ["Selected invoices are not from a single client"],
        "invoices.1.invoice_id": ["Selected invoices are not from a single client"],
    }
    owner = H(other_clients_invoice["client_id"])
    # (each request differs in amount: v5 refuses a same-client, same-amount payment within a second)
    response = await client.post("/api/v1/payments", json={
        "client_id": owner, "amount": 5, "invoices": [{"invoice_id": 999, "amount": 5}],
    })
    assert (await response.json())["errors"] == {
        "invoices.0.invoice_id": ["The requested invoice is not available"],
    }
    response = await client.post("/api/v1/payments", json={
        "client_id": owner, "amount": 541, "invoices": [{"invoice_id": H(other_clients_invoice["id"]), "amount": 541}],
    })
    assert (await response.json())["errors"] == {"invoices.0.invoice_id": [
        "The amount is greater than the invoice balance. You cannot overpay an invoice.",
    ]}
    response = await client.post("/api/v1/payments", json={
        "client_id": owner, "amount": 20, "invoices": [{"invoice_id": H(other_clients_invoice["id"]), "amount": 40}],
    })
    assert (await response.json())["errors"] == {"amount": ["Amounts do not balance correctly."]}


async def test_mark_paid_and_mark_sent_actions(client, store):
    draft = invoice_by_number(store, "0004")
    sent = await data(await client.get(f"/api/v1/invoices/{H(draft['id'])}/mark_sent"))
    assert sent["status_id"] == "2"
    paid = await data(await client.get(f"/api/v1/invoices/{H(draft['id'])}/mark_paid?include=payments"))
    assert paid["status_id"] == "4" and paid["balance"] == 0.0 and paid["paid_to_date"] == 4800.0
    assert [p["amount"] for p in paid["payments"]] == [4800.0]
    again = await client.get(f"/api/v1/invoices/{H(draft['id'])}/mark_paid")
    assert again.status == 400
    assert await again.json() == {"error": {"message": "Invoice cannot be marked as paid"}}
    email = await client.get(f"/api/v1/invoices/{H(draft['id'])}/email")
    assert await email.json() == {"message": "email sent"}
    unknown = await client.get(f"/api/v1/invoices/{H(draft['id'])}/frobnicate")
    assert unknown.status == 400
    assert await unknown.json() == {"message": "The requested action frobnicate is not available."}


# --- products, tax rates, users -------------------------------------------------------------


async def test_product_and_tax_rate_crud(client):
    product = await data(await client.post("/api/v1/products", json={"product_key": "NEW", "price": "12.5"}))
    assert product["price"] == 12.5 and product["cost"] == 0.0 and product["tax_id"] == "1"
    product = await data(await client.put(f"/api/v1/products/{product['id']}", json={"notes": "Shiny"}))
    assert product["notes"] == "Shiny" and product["product_key"] == "NEW"
    response = await client.post("/api/v1/tax_rates", json={"rate": 3})
    assert (await response.json())["errors"] == {"name": ["The name field is required."]}
    response = await client.post("/api/v1/tax_rates", json={"name": "VAT", "rate": 3})
    assert (await response.json())["errors"] == {"name": ["The name has already been taken."]}
    rate = await data(await client.post("/api/v1/tax_rates", json={"name": "Eco levy", "rate": 2.5}))
    assert list(rate) == ["id", "name", "rate", "is_deleted", "updated_at", "archived_at", "created_at"]


async def test_users_list_is_open_but_the_rest_needs_the_password(client, store):
    users = await data(await client.get("/api/v1/users"))
    assert [u["email"] for u in users] == ["owner@example.com"]
    assert "password" not in users[0]
    refused = await client.get(f"/api/v1/users/{users[0]['id']}")
    assert refused.status == 412
    assert await refused.json() == {"message": "Invalid Password", "errors": {}}
    wrong = await client.get(f"/api/v1/users/{users[0]['id']}", headers={"X-API-PASSWORD": "guess"})
    assert wrong.status == 412
    one = await data(await client.get(f"/api/v1/users/{users[0]['id']}", headers={"X-API-PASSWORD": "password"}))
    assert one["first_name"] == "Olivia"
    # v5 remembers a successful check for 30 minutes
    renamed = await data(await client.put(f"/api/v1/users/{users[0]['id']}", json={"first_name": "Liv"}))
    assert renamed["first_name"] == "Liv"
    response = await client.delete(f"/api/v1/users/{users[0]['id']}")
    assert await response.json() == {"message": "Method not supported for this route"}


async def test_password_header_can_be_base64(client):
    owner = (await data(await client.get("/api/v1/users")))[0]
    response = await client.get(f"/api/v1/users/{owner['id']}", headers={"X-API-PASSWORD-BASE64": "cGFzc3dvcmQ="})
    assert response.status == 200


# --- bulk -----------------------------------------------------------------------------------


async def test_bulk_archive_restore_delete(client, store):
    keys = [row["id"] for row in store.table("products")][:3]
    body = await (await client.post("/api/v1/products/bulk", json={"action": "archive",
                                                                   "ids": [H(k) for k in keys]})).json()
    assert [p["archived_at"] > 0 for p in body["data"]] == [True] * 3
    assert body["meta"]["pagination"]["total"] == 3
    body = await (await client.post("/api/v1/products/bulk", json={"action": "delete", "ids": [H(keys[0])]})).json()
    assert body["data"][0]["is_deleted"] is True
    body = await (await client.post("/api/v1/products/bulk", json={"action": "restore", "ids": [H(keys[0])]})).json()
    assert body["data"][0]["is_deleted"] is False and body["data"][0]["archived_at"] == 0


async def test_bulk_response_is_truncated_at_per_page(client, store):
    ids = [H(row["id"]) for row in store.table("products")]
    body = await (await client.post("/api/v1/products/bulk", json={"action": "archive", "ids": ids})).json()
    assert len(body["data"]) == 20 and body["meta"]["pagination"]["total"] == 25
    assert all(row["archived_at"] for row in store.table("products"))  # all 25 archived, 20 shown
    body = await (await client.post("/api/v1/products/bulk?per_page=50",
                                    json={"action": "restore", "ids": ids})).json()
    assert len(body["data"]) == 25


async def test_bulk_validation_and_invoice_actions(client, store):
    response = await client.post("/api/v1/clients/bulk", json={"action": "explode", "ids": []})
    assert (await response.json())["errors"] == {
        "action": ["The selected action is invalid."], "ids": ["The ids field is required."],
    }
    response = await client.post("/api/v1/clients/bulk", json={"action": "archive", "ids": [H(101), "nope"]})
    assert (await response.json())["errors"] == {"ids": ["The selected ids is invalid."]}
    response = await client.post("/api/v1/invoices/bulk", json={"ids": [H(201)]})
    assert (await response.json())["errors"] == {"action": ["The action field is required."]}
    response = await client.post("/api/v1/invoices/bulk", json={"action": "archive", "ids": ["nope"]})
    assert await response.json() == {"message": "No Invoices Found"}
    draft = invoice_by_number(store, "0004")
    body = await (await client.post("/api/v1/invoices/bulk", json={"action": "mark_paid",
                                                                   "ids": [H(draft["id"])]})).json()
    assert body["data"][0]["status_id"] == "4" and body["data"][0]["balance"] == 0.0
    body = await (await client.post("/api/v1/invoices/bulk", json={"action": "email",
                                                                   "ids": [H(draft["id"])]})).json()
    assert body["data"][0]["number"] == "0004"  # bulk email answers the list, not a message


async def test_integer_bulk_ids_match_nothing(client, store):
    # unlike body fields, bulk ids go through transformKeys, which decodes integers too (and fails)
    body = await (await client.post("/api/v1/tax_rates/bulk", json={"action": "archive", "ids": [61, H(62)]})).json()
    assert [CODEC.decode(r["id"]) for r in body["data"]] == [62]
    assert store.table("tax_rates").get(61)["archived_at"] == 0


async def test_repeated_writes_within_a_second_are_refused(client, store):
    invoice = invoice_by_number(store, "0008")
    payment = {"client_id": H(invoice["client_id"]), "amount": 10,
               "invoices": [{"invoice_id": H(invoice["id"]), "amount": 10}]}
    assert (await client.post("/api/v1/payments", json=payment)).status == 200
    again = await client.post("/api/v1/payments", json=payment)
    assert again.status == 400 and await again.json() == {"message": "Duplicate request"}
    assert invoice["paid_to_date"] == 10.0  # the replay did not pay twice
    bulk = {"action": "mark_sent", "ids": [H(invoice["id"])]}
    assert (await client.post("/api/v1/invoices/bulk", json=bulk)).status == 200
    assert (await client.post("/api/v1/invoices/bulk", json=bulk)).status == 400


async def test_model_events_are_emitted(client, store):
    seen = []
    store.events.append(lambda event, kind, record: seen.append((event, kind, record["id"])))
    created = await data(await client.post("/api/v1/tax_rates", json={"name": "Eco", "rate": 1}))
    key = CODEC.decode(created["id"])
    await client.put(f"/api/v1/tax_rates/{created['id']}", json={"rate": 2})
    await client.post("/api/v1/tax_rates/bulk", json={"action": "archive", "ids": [created["id"]]})
    await client.post("/api/v1/tax_rates/bulk", json={"action": "restore", "ids": [created["id"]]})
    await client.delete(f"/api/v1/tax_rates/{created['id']}")
    assert seen == [(e, "tax_rates", key) for e in ("create", "update", "archive", "restore", "delete")]


async def test_client_status_balance_and_case_insensitive_filters(client, store):
    unpaid = await data(await client.get("/api/v1/invoices?client_status=unpaid"))
    assert [i["number"] for i in unpaid] == ["0002", "0003", "0006", "0008"]
    drafts_and_paid = await data(await client.get("/api/v1/invoices?client_status=draft,paid"))
    assert [i["number"] for i in drafts_and_paid] == ["0001", "0004", "0005", "0007_Deleted"]
    overdue = await data(await client.get("/api/v1/invoices?client_status=overdue"))
    assert [i["number"] for i in overdue] == ["0002", "0003", "0006", "0008"]  # all due in 2024
    everything = await data(await client.get("/api/v1/invoices?client_status=all"))
    assert len(everything) == 8
    owing = await data(await client.get("/api/v1/clients?balance=900:gt"))
    assert [c["name"] for c in owing] == ["Blue Harbor Consulting", "Summit Outdoor Gear"]
    assert [p["product_key"] for p in await data(await client.get("/api/v1/products?product_key=logo"))] == ["LOGO"]
    by_email = await data(await client.get("/api/v1/clients?email=Maria.Anders@Northwind.example"))
    assert [c["name"] for c in by_email] == ["Northwind Traders"]
    completed = await data(await client.get("/api/v1/payments?client_status=completed"))
    assert len(completed) == 3


async def test_invitations_follow_the_sent_list(client, store):
    northwind = client_key(store, "Northwind Traders")
    maria, thomas = store.table("client_contacts").where(client_id=northwind)
    invoice = await data(await client.post("/api/v1/invoices", json={
        "client_id": H(northwind), "invitations": [{"client_contact_id": H(thomas["id"])}],
    }))
    assert [CODEC.decode(i["client_contact_id"]) for i in invoice["invitations"]] == [thomas["id"]]
    kept = invoice["invitations"][0]
    updated = await data(await client.put(f"/api/v1/invoices/{invoice['id']}", json={
        "invitations": [{"key": kept["key"], "client_contact_id": kept["client_contact_id"]},
                        {"client_contact_id": H(maria["id"])}],
    }))
    assert [i["id"] for i in updated["invitations"]][0] == kept["id"]
    assert [CODEC.decode(i["client_contact_id"]) for i in updated["invitations"]] == [thomas["id"], maria["id"]]
    response = await client.put(f"/api/v1/invoices/{invoice['id']}", json={"invitations": [{"key": "x"}]})
    assert (await response.json())["errors"] == {
        "invitations.0.client_contact_id": ["The invitations.0.client contact id field is required."],
    }


async def test_clone_actions_answer_unsaved_copies(client):
    clone = await data(await client.get(f"/api/v1/invoices/{H(201)}/clone_to_quote"))
    assert clone["id"] == "" and clone["number"] == "" and clone["entity_type"] == "quote"
    assert clone["amount"] == 1420.0 and clone["status_id"] == "1" and clone["invitations"] == []
    history = await client.get(f"/api/v1/invoices/{H(201)}/history")
    assert history.status == 200 and await history.read() == b""


async def test_mark_sent_fills_due_date_and_stamps_invitations(client, store):
    created = await data(await client.post("/api/v1/invoices", json={
        "client_id": H(client_key(store, "Blue Harbor Consulting")), "date": "2024-10-01",
        "line_items": [{"product_key": "LOGO", "quantity": 1, "cost": 850}],
    }))
    assert created["design_id"] == "Wpmbk5ezJn"  # v5's hard-coded default design, key 2
    assert created["due_date"] == "" and created["invitations"][0]["sent_date"] == ""
    sent = await data(await client.get(f"/api/v1/invoices/{created['id']}/mark_sent"))
    assert sent["due_date"] == "2024-10-15"  # the company's payment terms are 14 days
    assert re.fullmatch(r"\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}", sent["invitations"][0]["sent_date"])
    assert store.table("clients").get(client_key(store, "Blue Harbor Consulting"))["balance"] == 948.5 + 850


async def test_contact_rules_of_the_contact_repository(client, store):
    bare = await data(await client.post("/api/v1/clients", json={"name": "No Contacts Ltd"}))
    [placeholder] = bare["contacts"]
    assert placeholder["email"] == " " and placeholder["is_primary"] is True and len(placeholder["contact_key"]) == 40
    ordered = await data(await client.post("/api/v1/clients", json={"name": "Two", "contacts": [
        {"first_name": "A", "email": "a@two.example", "send_email": False},
        {"first_name": "B", "email": " b@two.example ", "is_primary": True, "send_email": False},
    ]}))
    # saved primaries first (so B gets the lower key), only the first stays primary, and someone must
    # receive e-mail; input strings are trimmed (TrimStrings) before validation
    assert [(c["first_name"], c["is_primary"], c["send_email"]) for c in ordered["contacts"]] == [
        ("B", True, True), ("A", False, False)]
    assert ordered["contacts"][0]["email"] == "b@two.example"
    # an id of another client's contact moves that contact over (ClientContact::find is not scoped)
    northwind_contact = store.table("client_contacts").where(client_id=101)[1]
    moved = await data(await client.put(f"/api/v1/clients/{bare['id']}", json={
        "contacts": [{"id": H(northwind_contact["id"]), "first_name": "Thomas"}],
    }))
    assert [c["id"] for c in moved["contacts"]] == [H(northwind_contact["id"])]
    assert [c["first_name"] for c in store.table("client_contacts").where(client_id=101)] == ["Maria"]


async def test_contacts_are_listed_primary_first(client, store):
    key = client_key(store, "Northwind Traders")
    maria, thomas = (await data(await client.get(f"/api/v1/clients/{H(key)}")))["contacts"]
    updated = await data(await client.put(f"/api/v1/clients/{H(key)}", json={"contacts": [
        {"id": maria["id"], "email": maria["email"]}, {"id": thomas["id"], "email": thomas["email"], "is_primary": True},
    ]}))
    assert [(c["id"], c["is_primary"]) for c in updated["contacts"]] == [(thomas["id"], True), (maria["id"], False)]
