"""Shared fixtures: the mappings, compiled plans and an id translator with the default salt."""

from __future__ import annotations

import pytest

from ninja_bridge.ids.codec import HashidCodec
from ninja_bridge.ids.translator import SchemeIdTranslator
from ninja_bridge.translate.plan import PlanSet
from ninja_bridge.translate.spec import load_mappings
from ninja_bridge.translate.structural import COMPUTED, known_functions


@pytest.fixture(scope="session")
def mappings():
    return load_mappings(known_functions=known_functions())


@pytest.fixture(scope="session")
def codec():
    return HashidCodec("")


@pytest.fixture(scope="session")
def ids(codec):
    return SchemeIdTranslator(codec)


@pytest.fixture(scope="session")
def plans(mappings, ids):
    plans = PlanSet(mappings, ids, COMPUTED)
    plans.compile_all()
    return plans
