"""The part-2 mappings as plain functions: v5 objects in, v4 objects out (and back where v4 wrote)."""

from __future__ import annotations

from ninja_bridge.ids.translator import KIND_WINDOWS
from ninja_bridge.translate.plan import Context


def test_activity_in_v4_shape(plans, codec, ids):
    v5 = {"id": codec.encode(9), "activity_type_id": "4", "client_id": codec.encode(101), "user_id": codec.encode(11),
          "invoice_id": codec.encode(201), "payment_id": "", "credit_id": "", "expense_id": "", "task_id": "",
          "contact_id": codec.encode(151), "updated_at": 1700000000, "created_at": 1700000000, "is_system": False,
          "notes": ""}
    v4 = plans["activity"].to_v4(v5, {}, Context(ids=ids))
    assert v4["id"] == "4-101-1700000000" and v4["activity_type_id"] == 4
    assert (v4["client_id"], v4["user_id"], v4["invoice_id"], v4["contact_id"]) == (101, 11, 201, 151)
    assert v4["payment_id"] is None and v4["adjustment"] == 0 and v4["updated_at"] == 1700000000


def test_quote_and_recurring_invoice_numbers(plans, codec, ids):
    quote = plans["quote"].to_v4({"id": codec.encode(5), "status_id": "3", "invoice_id": codec.encode(7),
                                  "line_items": []}, {}, Context(ids=ids))
    assert quote["id"] == KIND_WINDOWS["quote"][0] + 5 and quote["invoice_status_id"] == 4
    assert quote["quote_invoice_id"] == 7 and quote["invoice_type_id"] == 2 and quote["is_quote"] is False  # no entity_type
    recurring = plans["recurring_invoice"].to_v4(
        {"id": codec.encode(5), "frequency_id": "5", "next_send_date": "2030-01-01", "status_id": "2"}, {},
        Context(ids=ids))
    assert recurring["id"] == KIND_WINDOWS["recurring_invoice"][0] + 5
    assert (recurring["frequency_id"], recurring["start_date"], recurring["is_recurring"]) == (4, "2030-01-01", True)
    assert plans["recurring_invoice"].to_v5({"frequency_id": 4, "start_date": "2030-02-01"}) == {
        "frequency_id": 5, "next_send_date": "2030-02-01"}


def test_account_from_company_settings_and_back(plans, ids):
    company = {"company_key": "KEY", "settings": {"name": "Co", "currency_id": "3", "phone": "555",
                                                    "default_task_rate": 90, "payment_terms": "14"},
               "first_day_of_week": "1", "updated_at": 5, "archived_at": 0}
    account = plans["account"].to_v4(company, {}, Context(ids=ids))
    assert (account["account_key"], account["name"], account["currency_id"], account["work_phone"]) == (
        "KEY", "Co", 3, "555")
    assert account["task_rate"] == 90 and account["payment_terms"] == 14 and account["start_of_week"] == 1
    assert account["archived_at"] is None and account["account_email_settings"]["bcc_email"] == ""
    assert plans["account"].to_v5({"name": "New", "work_phone": "1"}) == {"settings": {"name": "New", "phone": "1"}}


def test_vendor_contacts_are_v5_contacts(plans):
    assert plans["vendor"].to_v5({"name": "V", "work_phone": "1", "vendor_contacts": [{"first_name": "A"}]}) == {
        "name": "V", "phone": "1", "contacts": [{"first_name": "A"}]}


def test_expense_names(plans, codec, ids):
    v5 = {"id": codec.encode(701), "category_id": codec.encode(31), "date": "2024-01-02", "payment_type_id": "2",
          "currency_id": "1", "transaction_reference": "R-1", "transaction_id": "", "bank_id": ""}
    v4 = plans["expense"].to_v4(v5, {}, Context(ids=ids))
    assert (v4["expense_category_id"], v4["expense_date"], v4["payment_type_id"]) == (31, "2024-01-02", 3)
    assert v4["expense_currency_id"] == 1 and v4["transaction_id"] == "R-1" and v4["bank_id"] == 0
