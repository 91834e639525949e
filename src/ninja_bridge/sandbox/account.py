"""The company, its owner and the auth-related payloads: login/refresh, ping, statics."""

from __future__ import annotations

from typing import Any

from ninja_bridge.sandbox.entities import ENTITIES, render
from ninja_bridge.sandbox.store import Record, SandboxStore

SANDBOX_TOKEN = "sbx" + "0123456789abcdef" * 3 + "9f8e7d6c5b4a3"  # 64 chars, like a v5 company token
OWNER_EMAIL = "owner@example.com"
OWNER_PASSWORD = "password"  # the sandbox keeps it in clear: it is sample data, not a credential store
COMPANY_NAME = "Brightside Studio LLC"
TOKEN_NAME = "Sandbox token"

CURRENCIES = [
    {"id": "1", "name": "US Dollar", "code": "USD", "symbol": "$", "precision": 2,
     "thousand_separator": ",", "decimal_separator": ".", "swap_currency_symbol": False, "exchange_rate": 1},
    {"id": "2", "name": "British Pound", "code": "GBP", "symbol": "£", "precision": 2,
     "thousand_separator": ",", "decimal_separator": ".", "swap_currency_symbol": False, "exchange_rate": 0.76},
    {"id": "3", "name": "Euro", "code": "EUR", "symbol": "€", "precision": 2,
     "thousand_separator": ".", "decimal_separator": ",", "swap_currency_symbol": True, "exchange_rate": 0.9},
    {"id": "9", "name": "Canadian Dollar", "code": "CAD", "symbol": "C$", "precision": 2,
     "thousand_separator": ",", "decimal_separator": ".", "swap_currency_symbol": False, "exchange_rate": 1.35},
]
COUNTRIES = [
    {"id": "124", "name": "Canada", "iso_3166_2": "CA", "iso_3166_3": "CAN"},
    {"id": "276", "name": "Germany", "iso_3166_2": "DE", "iso_3166_3": "DEU"},
    {"id": "826", "name": "United Kingdom", "iso_3166_2": "GB", "iso_3166_3": "GBR"},
    {"id": "840", "name": "United States", "iso_3166_2": "US", "iso_3166_3": "USA"},
]
PAYMENT_TYPES = [
    {"id": str(n), "name": name, "gateway_type_id": ""}
    for n, name in [(1, "Bank Transfer"), (2, "Cash"), (3, "Debit"), (4, "ACH"), (5, "Visa Card"),
                    (6, "MasterCard"), (7, "American Express"), (13, "PayPal"), (15, "Check"),
                    (32, "Credit"), (33, "Zelle")]
]
LANGUAGES = [{"id": "1", "name": "English - United States", "locale": "en"},
             {"id": "3", "name": "German", "locale": "de"}]
INDUSTRIES = [{"id": "1", "name": "Accounting & Legal"}, {"id": "7", "name": "Construction"},
              {"id": "15", "name": "Marketing"}, {"id": "17", "name": "Retail & Wholesale"},
              {"id": "20", "name": "Technology"}]
SIZES = [{"id": "1", "name": "1 - 3"}, {"id": "2", "name": "4 - 10"}, {"id": "3", "name": "11 - 50"}]
TIMEZONES = [{"id": "1", "name": "Pacific/Midway", "location": "(GMT-11:00) Midway Island"},
             {"id": "15", "name": "America/New_York", "location": "(GMT-05:00) Eastern Time"},
             {"id": "41", "name": "Europe/Berlin", "location": "(GMT+01:00) Berlin"}]


def statics() -> dict[str, Any]:
    return {
        "currencies": CURRENCIES,
        "countries": COUNTRIES,
        "payment_types": PAYMENT_TYPES,
        "languages": LANGUAGES,
        "industries": INDUSTRIES,
        "sizes": SIZES,
        "timezones": TIMEZONES,
        "date_formats": [{"id": "1", "format": "d/M/Y", "format_moment": "DD/MMM/YYYY"},
                         {"id": "5", "format": "Y-m-d", "format_moment": "YYYY-MM-DD"}],
        "gateways": [],
        "bulk_updates": {"client": ["public_notes", "industry_id", "size_id", "country_id"]},
    }


def owner(store: SandboxStore) -> Record:
    return store.table("users").get(store.owner_user_key) or {}


def check_credentials(store: SandboxStore, email: object, password: object) -> bool:
    user = owner(store)
    return bool(user) and email == user.get("email") and password == user.get("password")


def is_owner_password(store: SandboxStore, password: str) -> bool:
    return password == owner(store).get("password")


def company_payload(store: SandboxStore) -> dict[str, Any]:
    company = store.company
    return {
        "id": store.encode(company.get("id")),
        "company_key": company.get("company_key", ""),
        "settings": dict(company.get("settings", {})),
        "size_id": "", "industry_id": "", "first_month_of_year": "1", "first_day_of_week": "0",
        "enabled_modules": 32767, "is_large": False, "is_disabled": False, "enable_product_cost": False,
        "enable_product_quantity": True, "default_quantity": True, "custom_fields": {},
        "created_at": company.get("created_at", 0), "updated_at": company.get("updated_at", 0),
        "archived_at": 0, "is_deleted": False,
    }


def company_users(store: SandboxStore) -> list[dict[str, Any]]:
    """The login/refresh body: one CompanyUser per company, with user, company and token inlined."""
    user = owner(store)
    created = store.company.get("created_at", 0)
    return [{
        "permissions": "", "notifications": {"email": ["all_notifications"]}, "settings": {},
        "react_settings": {}, "is_owner": True, "is_admin": True, "is_locked": False,
        "updated_at": created, "archived_at": 0, "created_at": created, "permissions_updated_at": created,
        "ninja_portal_url": "", "user": render(store, ENTITIES["users"], user),
        "company": company_payload(store),
        "token": {
            "id": store.encode(store.company.get("token_id")), "user_id": store.encode(user.get("id")),
            "token": store.token, "name": TOKEN_NAME, "is_system": True, "created_at": created,
            "updated_at": created, "archived_at": 0, "is_deleted": False,
        },
        "account": {"id": store.encode(store.company.get("account_id")), "plan": "enterprise",
                    "default_company_id": store.encode(store.company.get("id"))},
    }]


def ping(store: SandboxStore) -> dict[str, str]:
    user = owner(store)
    return {
        "company_name": store.company.get("settings", {}).get("name", ""),
        "user_name": f"{user.get('first_name', '')} {user.get('last_name', '')}".strip(),
    }
