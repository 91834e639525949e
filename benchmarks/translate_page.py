"""CPU cost of translating one v5 page of 100 invoices into the v4 page, beside a pass-through.

Run: python benchmarks/translate_page.py   (prints medians and ratios, measured side by side)

The pass-through baseline parses and re-serialises the same bytes (what a proxy that changes
nothing would at least do with orjson); the translation runs the compiled plans with a warm id
cache. Both are timed in alternation so machine noise hits them alike.
"""

from __future__ import annotations

import statistics
import sys
import time
from pathlib import Path

import orjson

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "src"))

from ninja_bridge.ids.codec import HashidCodec  # noqa: E402
from ninja_bridge.ids.translator import SchemeIdTranslator  # noqa: E402
from ninja_bridge.translate.plan import Context, PlanSet, parse_includes  # noqa: E402
from ninja_bridge.translate.spec import load_mappings  # noqa: E402
from ninja_bridge.translate.structural import COMPUTED, known_functions  # noqa: E402

ROUNDS = 200


def v5_page(codec: HashidCodec) -> bytes:
    def invoice(n: int) -> dict:
        return {
            "id": codec.encode(1000 + n), "user_id": codec.encode(1), "client_id": codec.encode(100 + n % 7),
            "assigned_user_id": "", "project_id": "", "vendor_id": "", "design_id": codec.encode(2),
            "recurring_id": "", "subscription_id": "", "status_id": str(1 + n % 4), "number": f"{n:05d}",
            "amount": 1234.5, "balance": 100.0, "discount": 0, "po_number": "", "date": "2024-05-01",
            "due_date": "2024-05-15", "terms": "Net 14", "public_notes": "Thanks", "private_notes": "",
            "footer": "", "partial": 0, "partial_due_date": "", "custom_value1": "", "custom_value2": "",
            "custom_surcharge1": 0, "custom_surcharge2": 0, "custom_surcharge_tax1": False,
            "custom_surcharge_tax2": False, "is_deleted": False, "is_amount_discount": False,
            "uses_inclusive_taxes": False, "tax_name1": "VAT", "tax_rate1": 20, "tax_name2": "",
            "tax_rate2": 0, "tax_name3": "", "tax_rate3": 0, "total_taxes": 200, "last_sent_date": "",
            "next_send_date": "", "created_at": 1714500000, "updated_at": 1714600000, "archived_at": 0,
            "entity_type": "invoice", "auto_bill_enabled": False, "paid_to_date": 1134.5,
            "line_items": [{"quantity": 2, "cost": 100, "product_key": f"P{i}", "notes": "Work done",
                            "discount": 0, "tax_name1": "", "tax_rate1": 0, "type_id": "1", "task_id": "",
                            "expense_id": "", "line_total": 200, "date": "", "custom_value1": ""}
                           for i in range(5)],
            "invitations": [{"id": codec.encode(5000 + n), "client_contact_id": codec.encode(300 + n),
                             "key": "k" * 32, "link": "https://x/client/invoice/k", "sent_date": "",
                             "viewed_date": "", "opened_date": "", "updated_at": 1714600000,
                             "archived_at": 0, "created_at": 1714500000, "email_status": "",
                             "email_error": "", "message_id": ""}],
            "documents": [],
        }

    page = {"data": [invoice(n) for n in range(100)],
            "meta": {"pagination": {"total": 100, "count": 100, "per_page": 100, "current_page": 1,
                                    "total_pages": 1, "links": {}}}}
    return orjson.dumps(page)


def main() -> None:
    codec = HashidCodec("")
    plans = PlanSet(load_mappings(known_functions=known_functions()), SchemeIdTranslator(codec), COMPUTED)
    plan = plans["invoice"]
    raw = v5_page(codec)
    tree = parse_includes("invitations")
    ctx = Context(ids=plans.ids)

    def passthrough() -> bytes:
        return orjson.dumps(orjson.loads(raw))

    def translate() -> bytes:
        body = orjson.loads(raw)
        return orjson.dumps({"data": [plan.to_v4(row, tree, ctx) for row in body["data"]],
                             "meta": body["meta"]})

    translate()  # warm the id cache, as a running proxy has it
    timings: dict[str, list[float]] = {"passthrough": [], "translate": []}
    for _ in range(ROUNDS):
        for name, function in (("passthrough", passthrough), ("translate", translate)):
            started = time.process_time_ns()
            function()
            timings[name].append((time.process_time_ns() - started) / 1e6)
    base = statistics.median(timings["passthrough"])
    cost = statistics.median(timings["translate"])
    print(f"page: 100 invoices, {len(raw) / 1024:.0f} KiB of v5 JSON, {ROUNDS} rounds each")
    print(f"orjson pass-through  median {base:.3f} ms CPU")
    print(f"v5 -> v4 translation median {cost:.3f} ms CPU")
    print(f"ratio translation / pass-through: {cost / base:.1f}x")


if __name__ == "__main__":
    main()
