"""docs/coverage.md stays true: every route the proxy serves has a row, and every row of a served
route names a status and is covered by an end-to-end test marked `@pytest.mark.v4_route("METHOD path")`.

The routes are those the application registers; the marks are collected by pytest itself (a `--collect-only` run of the suite), so a test counts only
if pytest would run it."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from ninja_bridge.app import create_app
from ninja_bridge.config import load_settings
from ninja_bridge.routes import API_PREFIX

ROOT = Path(__file__).resolve().parents[1]
COVERAGE = ROOT / "docs" / "coverage.md"
STATUSES = ("supported", "partial", "unsupported")
ROW = re.compile(r"^\|\s*([A-Z, ]+?)\s*\|\s*`([^`]+)`\s*\|\s*(\w+)\s*\|(.*)\|\s*$")


def served_routes() -> set[tuple[str, str]]:
    """(method, path) of every v4 route the proxy's application registers (not the catch-all)."""
    app = create_app(load_settings(upstream="http://127.0.0.1:9"))
    routes = set()
    for route in app.router.routes():
        path = route.resource.canonical if route.resource is not None else ""
        if path.startswith(API_PREFIX + "/") and route.method not in ("*", "HEAD") and "{tail" not in path:
            routes.add((route.method, path))
    return routes


def table_rows() -> dict[tuple[str, str], tuple[str, str]]:
    """(method, path) -> (status, notes), from the table rows of docs/coverage.md."""
    rows: dict[tuple[str, str], tuple[str, str]] = {}
    for line in COVERAGE.read_text(encoding="utf-8").splitlines():
        match = ROW.match(line)
        if match:
            methods, path, status, notes = match.groups()
            for method in methods.split(","):
                key = (method.strip(), path)
                assert key not in rows, f"docs/coverage.md lists {key} twice"
                rows[key] = (status, notes.strip())
    return rows


@pytest.fixture(scope="module")
def marked_routes(tmp_path_factory) -> dict[str, list[str]]:
    report = tmp_path_factory.mktemp("routes") / "report.json"
    env = {**os.environ, "NINJA_BRIDGE_ROUTE_REPORT": str(report)}
    done = subprocess.run([sys.executable, "-m", "pytest", "--collect-only", "-q", "-p", "no:cacheprovider",
                           str(ROOT / "tests")], cwd=ROOT, env=env, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-2000:]
    return json.loads(report.read_text())


def test_every_served_route_has_a_row():
    served = served_routes()
    missing = sorted(served - set(table_rows()))
    assert not missing, f"routes the proxy serves but docs/coverage.md does not list: {missing}"


def test_every_row_has_a_known_status_and_a_reason_where_it_differs():
    for (method, path), (status, notes) in table_rows().items():
        assert status in STATUSES, f"{method} {path}: status {status!r} is not one of {STATUSES}"
        if status != "supported":
            assert notes, f"{method} {path} is {status}: say what differs or why"


def test_every_served_row_is_covered_by_an_end_to_end_test(marked_routes):
    served = served_routes()
    untested = sorted(f"{m} {p}" for (m, p) in table_rows() if (m, p) in served and f"{m} {p}" not in marked_routes)
    assert not untested, f"routes in docs/coverage.md without a @pytest.mark.v4_route test: {untested}"


def test_rows_the_proxy_does_not_serve_are_unsupported():
    served = served_routes()
    wrong = sorted(f"{m} {p}" for (m, p), (status, _) in table_rows().items()
                   if (m, p) not in served and status != "unsupported")
    assert not wrong, f"rows marked supported/partial that the proxy does not serve: {wrong}"


def test_marks_name_routes_of_the_table(marked_routes):
    listed = {f"{m} {p}" for m, p in table_rows()}
    stray = sorted(set(marked_routes) - listed)
    assert not stray, f"tests marked with routes docs/coverage.md does not list: {stray}"
