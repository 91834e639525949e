"""Sample data: one small design studio with clients, products, invoices and the rest.

Everything goes through the same create/mark/pay functions the HTTP handlers use, so the seeded
amounts, balances and statuses obey the sandbox's own rules. Keys in these payloads are raw integer
keys, which v5 accepts for JSON integers as well. The clock is frozen while seeding, so every
start produces byte-identical data.
"""

from __future__ import annotations

from ninja_bridge.sandbox import account, billing, operations
from ninja_bridge.sandbox.entities import ENTITIES
from ninja_bridge.sandbox.pdf import build_pdf
from ninja_bridge.sandbox.store import Record, SandboxStore, stable_token

SEED_START = 1725267600  # 2024-09-02 09:00 UTC
SEED_STEP = 1800  # each seeded change happens half an hour after the previous one


class SeedClock:
    def __init__(self, store: SandboxStore) -> None:
        self.store = store
        self.moment = SEED_START

    def tick(self) -> None:
        self.moment += SEED_STEP
        self.store.frozen_now = self.moment


def setup_company(store: SandboxStore) -> None:
    """The company and its owner exist even in an unseeded sandbox (login and ping need them)."""
    store.frozen_now = SEED_START - 86400
    company = store.table("companies").insert({
        "company_key": stable_token("company-key"),
        "settings": {
            "name": account.COMPANY_NAME, "currency_id": "1", "country_id": "840", "language_id": "1",
            "timezone_id": "15", "address1": "88 Larkspur Lane", "city": "Portland", "state": "OR",
            "postal_code": "97205", "email": "billing@brightside.example", "phone": "+1 503 555 0142",
            "website": "https://brightside.example", "default_task_rate": 95, "payment_terms": "14",
            "invoice_number_counter": 1,
        },
        "created_at": store.now(), "updated_at": store.now(),
    })
    store.company = company
    company["account_id"] = 3
    company["token_id"] = 5
    user = store.table("users").insert({
        **operations.blank_record(ENTITIES["users"]),
        "first_name": "Olivia", "last_name": "Bennett", "email": account.OWNER_EMAIL,
        "password": account.OWNER_PASSWORD, "phone": "+1 503 555 0100", "language_id": "1",
        "email_verified_at": store.now(), "created_at": store.now(), "updated_at": store.now(),
    })
    store.owner_user_key = user["id"]
    store.frozen_now = None


CLIENTS = [
    {"name": "Northwind Traders", "address1": "42 Harbour Street", "city": "Seattle", "state": "WA",
     "postal_code": "98101", "country_id": "840", "phone": "+1 206 555 0187", "website": "https://northwind.example",
     "id_number": "NW-1001", "vat_number": "", "industry_id": "17", "settings": {"currency_id": "1"},
     "contacts": [
         {"first_name": "Maria", "last_name": "Anders", "email": "maria.anders@northwind.example",
          "phone": "+1 206 555 0188", "is_primary": True},
         {"first_name": "Thomas", "last_name": "Hardy", "email": "thomas.hardy@northwind.example"},
     ]},
    {"name": "Blue Harbor Consulting", "address1": "9 Pier Avenue", "city": "Boston", "state": "MA",
     "postal_code": "02110", "country_id": "840", "phone": "+1 617 555 0123", "id_number": "BH-2002",
     "industry_id": "1", "settings": {"currency_id": "1"},
     "contacts": [{"first_name": "Liam", "last_name": "Chen", "email": "liam.chen@blueharbor.example"}]},
    {"name": "Greenleaf Bakery", "address1": "310 Alder Street", "city": "Portland", "state": "OR",
     "postal_code": "97204", "country_id": "840", "phone": "+1 503 555 0166", "settings": {"currency_id": "1"},
     "contacts": [
         {"first_name": "Sofia", "last_name": "Rossi", "email": "sofia@greenleafbakery.example"},
         {"first_name": "Marco", "last_name": "Rossi", "email": "marco@greenleafbakery.example", "send_email": False},
     ]},
    {"name": "Summit Outdoor Gear", "address1": "1200 Blake Street", "city": "Denver", "state": "CO",
     "postal_code": "80202", "country_id": "840", "phone": "+1 303 555 0134", "id_number": "SOG-77",
     "industry_id": "17", "settings": {"currency_id": "1"},
     "contacts": [{"first_name": "Ethan", "last_name": "Walker", "email": "ethan.walker@summitgear.example"}]},
    {"name": "Lumen Analytics GmbH", "address1": "Torstraße 140", "city": "Berlin", "postal_code": "10119",
     "country_id": "276", "vat_number": "DE298765432", "industry_id": "20",
     "settings": {"currency_id": "3", "language_id": "3"},
     "contacts": [{"first_name": "Anna", "last_name": "Schmidt", "email": "anna.schmidt@lumen-analytics.example"}]},
]

PRODUCTS = [
    ("DESIGN-HOUR", "Design work, per hour", 95.0, 40.0),
    ("DEV-HOUR", "Development work, per hour", 120.0, 55.0),
    ("CONSULT-HOUR", "Consulting, per hour", 150.0, 60.0),
    ("LOGO", "Logo design, three concepts and two revisions", 850.0, 300.0),
    ("BRAND-GUIDE", "Brand guidelines document", 1400.0, 500.0),
    ("WEB-LANDING", "Landing page design and build", 1800.0, 700.0),
    ("WEB-SITE-S", "Small business website, up to 5 pages", 4200.0, 1600.0),
    ("WEB-SITE-M", "Business website, up to 15 pages", 8500.0, 3200.0),
    ("ECOM-SETUP", "Online shop setup", 3200.0, 1200.0),
    ("SEO-AUDIT", "SEO audit and report", 650.0, 200.0),
    ("SEO-MONTHLY", "SEO retainer, monthly", 900.0, 350.0),
    ("HOSTING-M", "Managed hosting, monthly", 49.0, 18.0),
    ("HOSTING-Y", "Managed hosting, yearly", 490.0, 180.0),
    ("DOMAIN", "Domain registration, one year", 25.0, 12.0),
    ("SSL", "SSL certificate, one year", 60.0, 20.0),
    ("EMAIL-SETUP", "Business email setup", 150.0, 40.0),
    ("PHOTO-HALF", "Product photography, half day", 600.0, 250.0),
    ("PHOTO-DAY", "Product photography, full day", 1100.0, 450.0),
    ("COPY-PAGE", "Copywriting, per page", 180.0, 70.0),
    ("SOCIAL-KIT", "Social media template kit", 450.0, 150.0),
    ("PRINT-CARDS", "Business cards, 500 pieces", 120.0, 65.0),
    ("PRINT-FLYER", "Flyers A5, 1000 pieces", 240.0, 130.0),
    ("MAINT-HOUR", "Website maintenance, per hour", 85.0, 35.0),
    ("TRAINING", "CMS training session, two hours", 260.0, 80.0),
    ("RUSH-FEE", "Rush delivery surcharge", 300.0, 0.0),
]

TAX_RATES = [("Sales Tax", 8.25), ("VAT", 19.0), ("GST", 5.0)]


def line(product_key: str, quantity: float, cost: float, notes: str = "", **extra: object) -> dict:
    return {"product_key": product_key, "quantity": quantity, "cost": cost, "notes": notes, **extra}


def seed_store(store: SandboxStore) -> None:
    clock = SeedClock(store)
    clock.tick()
    clients = []
    for payload in CLIENTS:
        clients.append(operations.create(store, "clients", payload))
        clock.tick()
    for product_key, notes, price, cost in PRODUCTS:
        operations.create(store, "products", {"product_key": product_key, "notes": notes, "price": price,
                                              "cost": cost, "quantity": 1})
    clock.tick()
    for name, rate in TAX_RATES:
        operations.create(store, "tax_rates", {"name": name, "rate": rate})
    clock.tick()
    invoices = seed_invoices(store, clock, clients)
    seed_payments(store, clock, invoices)
    seed_part_two(store, clock, clients, invoices)
    seed_payment_terms(store)
    store.frozen_now = None


def seed_invoices(store: SandboxStore, clock: SeedClock, clients: list[Record]) -> list[Record]:
    northwind, blue_harbor, greenleaf, summit, lumen = (client["id"] for client in clients)
    specs = [
        # (client, date, due, line items, extra fields, what happens next)
        (northwind, "2024-08-01", "2024-08-15", [line("LOGO", 1, 850), line("DESIGN-HOUR", 6, 95)], {}, "send"),
        (northwind, "2024-08-20", "2024-09-03", [line("HOSTING-Y", 1, 490), line("DOMAIN", 2, 25)], {}, "send"),
        (blue_harbor, "2024-08-05", "2024-08-19", [line("CONSULT-HOUR", 12, 150)],
         {"po_number": "BH-PO-5531", "tax_name1": "Sales Tax", "tax_rate1": 8.25}, "send"),
        (greenleaf, "2024-08-28", "2024-09-11", [line("WEB-SITE-S", 1, 4200), line("PHOTO-HALF", 1, 600)],
         {"public_notes": "Deposit of 50% due on approval."}, "draft"),
        (greenleaf, "2024-07-15", "2024-07-29", [line("PRINT-CARDS", 2, 120), line("PRINT-FLYER", 1, 240)], {}, "send"),
        (summit, "2024-06-10", "2024-06-24", [line("SEO-AUDIT", 1, 650)], {}, "archive"),
        (lumen, "2024-08-30", "2024-09-13", [line("DEV-HOUR", 20, 120, discount=10)],
         {"tax_name1": "VAT", "tax_rate1": 19.0}, "delete"),
        (summit, "2024-08-25", "2024-09-08", [line("ECOM-SETUP", 1, 3200), line("TRAINING", 1, 260)],
         {"terms": "Payment within 14 days.", "tax_name1": "Sales Tax", "tax_rate1": 8.25}, "send"),
    ]
    invoices = []
    for client_key, date, due, items, extra, next_step in specs:
        invoice = operations.create(store, "invoices", {
            "client_id": client_key, "date": date, "due_date": due, "line_items": items, **extra,
        })
        clock.tick()
        if next_step in ("send", "archive"):
            operations.email(store, "invoices", invoice)
        if next_step == "archive":
            operations.archive(store, "invoices", invoice)
        if next_step == "delete":
            operations.delete(store, "invoices", invoice)
        clock.tick()
        invoices.append(invoice)
    return invoices


def seed_payments(store: SandboxStore, clock: SeedClock, invoices: list[Record]) -> None:
    paid_in_full, _, partly_paid, _, paid_by_check = invoices[:5]
    payments = [
        (paid_in_full, paid_in_full["balance"], "1", "2024-08-14", "WIRE-88213"),
        (partly_paid, 1000.0, "5", "2024-08-18", "ch_3PpQk2Sandbox"),
        (paid_by_check, paid_by_check["balance"], "15", "2024-07-26", "Check #1042"),
    ]
    for invoice, amount, type_id, date, reference in payments:
        operations.create(store, "payments", {
            "client_id": invoice["client_id"], "amount": amount, "type_id": type_id, "date": date,
            "transaction_reference": reference,
            "invoices": [{"invoice_id": invoice["id"], "amount": amount}],
        })
        clock.tick()


TASK_STATUSES = [("Backlog", "#94a3b8"), ("Ready to do", "#3b82f6"), ("In progress", "#f59e0b"),
                 ("Done", "#22c55e")]


def seed_part_two(store: SandboxStore, clock: SeedClock, clients: list[Record], invoices: list[Record]) -> None:
    northwind, blue_harbor, greenleaf, summit, lumen = (client["id"] for client in clients)
    quote_sent = operations.create(store, "quotes", {
        "client_id": greenleaf, "date": "2024-08-26", "due_date": "2024-09-25",
        "line_items": [line("WEB-SITE-S", 1, 4200), line("SEO-AUDIT", 1, 650)],
        "public_notes": "Valid for 30 days.",
    })
    operations.email(store, "quotes", quote_sent)
    clock.tick()
    operations.create(store, "quotes", {
        "client_id": lumen, "date": "2024-09-01", "due_date": "2024-10-01",
        "line_items": [line("DEV-HOUR", 40, 120), line("CONSULT-HOUR", 4, 150)],
        "tax_name1": "VAT", "tax_rate1": 19.0,
    })
    clock.tick()
    recurring = operations.create(store, "recurring_invoices", {
        "client_id": northwind, "date": "2024-09-01", "frequency_id": "5", "remaining_cycles": -1,
        "next_send_date": "2024-10-01", "auto_bill": "off", "due_date_days": "14",
        "line_items": [line("HOSTING-M", 1, 49), line("SEO-MONTHLY", 1, 900)],
    })
    operations.set_recurring_state(store, recurring, billing.RECURRING_ACTIVE)
    clock.tick()
    credit = operations.create(store, "credits", {
        "client_id": blue_harbor, "date": "2024-08-22",
        "line_items": [line("CONSULT-HOUR", 2, 150, "Credit for cancelled workshop")],
    })
    operations.email(store, "credits", credit)
    clock.tick()

    vendors = [
        operations.create(store, "vendors", {
            "name": "PixelPrint Co.", "address1": "75 Press Road", "city": "Portland", "state": "OR",
            "postal_code": "97210", "country_id": "840", "currency_id": "1", "phone": "+1 503 555 0177",
            "contacts": [{"first_name": "Grace", "last_name": "Lee", "email": "grace@pixelprint.example"}],
        }),
        operations.create(store, "vendors", {
            "name": "CloudNest Hosting", "website": "https://cloudnest.example", "country_id": "826",
            "currency_id": "2",
            "contacts": [{"first_name": "Oliver", "last_name": "Price", "email": "billing@cloudnest.example"},
                         {"first_name": "Amelia", "last_name": "Hughes", "email": "amelia@cloudnest.example"}],
        }),
    ]
    clock.tick()
    categories = [operations.create(store, "expense_categories", {"name": name, "color": color})
                  for name, color in (("Printing", "#0ea5e9"), ("Hosting & Software", "#a855f7"))]
    clock.tick()
    expenses = [
        operations.create(store, "expenses", {
            "vendor_id": vendors[0]["id"], "category_id": categories[0]["id"], "client_id": greenleaf,
            "amount": 132.5, "date": "2024-07-12", "payment_date": "2024-07-12", "payment_type_id": "5",
            "currency_id": "1", "public_notes": "Business cards and flyers print run",
            "should_be_invoiced": True, "transaction_reference": "PP-20931",
        }),
        operations.create(store, "expenses", {
            "vendor_id": vendors[1]["id"], "category_id": categories[1]["id"], "amount": 59.0,
            "date": "2024-08-01", "currency_id": "2", "public_notes": "Hosting plan, August",
        }),
    ]
    clock.tick()
    operations.attach_document(store, "expenses", expenses[0], "pixelprint-receipt.pdf", receipt_pdf())
    clock.tick()
    project = operations.create(store, "projects", {
        "client_id": summit, "name": "Online shop launch", "task_rate": 120.0, "due_date": "2024-10-15",
        "budgeted_hours": 40.0, "public_notes": "Shop build, product import and training.", "color": "#f97316",
    })
    clock.tick()
    statuses = []
    for order, (name, color) in enumerate(TASK_STATUSES):
        statuses.append(operations.create(store, "task_statuses", {"name": name, "color": color,
                                                                    "status_order": order}))
    clock.tick()
    operations.create(store, "tasks", {
        "client_id": summit, "project_id": project["id"], "status_id": statuses[3]["id"],
        "description": "Product catalogue import", "rate": 120.0,
        "time_log": "[[1725008400,1725019200,\"Import and cleanup\",true],[1725094800,1725102000,\"\",true]]",
    })
    operations.create(store, "tasks", {
        "client_id": summit, "project_id": project["id"], "status_id": statuses[2]["id"],
        "description": "Checkout and payment testing", "rate": 120.0,
        "time_log": "[[1725181200,1725188400,\"Stripe test mode\",true]]",
    })
    clock.tick()


def seed_payment_terms(store: SandboxStore) -> None:
    for days in (7, 14, 30):
        operations.create(store, "payment_terms", {"num_days": days, "name": f"Net {days}"})


def receipt_pdf() -> bytes:
    return build_pdf(["PixelPrint Co. - Receipt PP-20931", "Business cards and flyers", "Total: 132.50 USD"])
