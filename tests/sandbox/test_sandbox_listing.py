"""Pagination invariants of the list engine, checked on many sizes with hypothesis."""

from __future__ import annotations

from urllib.parse import parse_qs, urlsplit

from aiohttp.test_utils import make_mocked_request
from hypothesis import given, settings
from hypothesis import strategies as st

from ninja_bridge.sandbox.listing import paginate, per_page


def request_for(query: str):
    return make_mocked_request("GET", f"/api/v1/products?{query}", headers={"Host": "v5.example:8080"})


@settings(max_examples=60, deadline=None)
@given(total=st.integers(0, 70), size=st.integers(1, 30))
def test_pages_partition_the_rows(total, size):
    rows = [{"id": n} for n in range(total)]
    seen = []
    first_rows, first_meta = paginate(request_for(f"per_page={size}"), rows)
    pages = first_meta["pagination"]["total_pages"]
    assert pages == max(1, -(-total // size))
    for page in range(1, pages + 1):
        page_rows, meta = paginate(request_for(f"per_page={size}&page={page}"), rows)
        pagination = meta["pagination"]
        assert pagination["count"] == len(page_rows) <= size
        assert ("previous" in pagination["links"]) == (page > 1)
        assert ("next" in pagination["links"]) == (page < pages)
        if "next" in pagination["links"]:
            link = urlsplit(pagination["links"]["next"])
            assert link.netloc == "v5.example:8080"
            assert parse_qs(link.query) == {"per_page": [str(size)], "page": [str(page + 1)]}
        seen += page_rows
    assert seen == rows
    assert first_rows == rows[:size]


@given(raw=st.text(max_size=8))
def test_per_page_never_fails_and_stays_in_bounds(raw):
    request = make_mocked_request("GET", "/api/v1/products", headers={"Host": "x"})
    size = per_page({"per_page": raw})
    assert 1 <= size <= 5000
    assert per_page(request.query) == 20
