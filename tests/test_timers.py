"""Task time logs and timer actions as plain functions (v4 pairs <-> v5 entries)."""

from __future__ import annotations

import json

import pytest
from hypothesis import given
from hypothesis import strategies as st

from ninja_bridge import errors
from ninja_bridge.resources.tasks import apply_timer
from ninja_bridge.translate.plan import Context
from ninja_bridge.translate.structural import time_detail_pair, v4_time_log, v5_time_log

stamps = st.integers(min_value=1, max_value=2**31 - 1)
pairs = st.lists(st.tuples(stamps, st.one_of(st.just(False), stamps)).map(list), max_size=6)


@given(pairs)
def test_v4_time_log_survives_v5_and_back(log):
    v5 = v5_time_log(log)
    assert all(len(entry) == 4 for entry in json.loads(v5))
    assert json.loads(v4_time_log({"time_log": v5}, Context())) == log


def test_timer_actions():
    started = apply_timer("start", [], 100)
    assert started == [[100, 0, "", True]]
    assert apply_timer("start", started, 150) == started  # already running: v4 kept one open entry
    stopped = apply_timer("stop", started, 160)
    assert stopped == [[100, 160, "", True]]
    assert apply_timer("stop", stopped, 170) == stopped
    resumed = apply_timer("resume", stopped, 200)
    assert resumed[-1] == [200, 0, "", True] and len(resumed) == 2
    assert apply_timer("dance", resumed, 300) == resumed


def test_time_details():
    assert time_detail_pair(0, {"start_datetime": "2024-01-01 00:00:00", "duration_hours": 1.5}) == [
        1704067200, 1704067200 + 5400]
    assert time_detail_pair(0, {"start_datetime": "2024-01-01T00:00:00",
                                "end_datetime": "2024-01-01 00:10:00"}) == [1704067200, 1704067800]
    assert time_detail_pair(0, {"start_datetime": "2024-01-01 00:00:00"}) == [1704067200, False]
    with pytest.raises(errors.V4Error) as bad:
        time_detail_pair(2, {"start_datetime": "yesterday"})
    assert bad.value.status == 422 and "time_details.2.start_datetime" in bad.value.body["errors"]
