from hypothesis import given, strategies as st
import pytest

from ninja_bridge.ids.codec import HashidCodec
from ninja_bridge.ids.translator import KIND_WINDOWS, V4_ID_MAX, IdError

# Known PHP hashids outputs with salt '' and min_length 10 (v5-api.md §1.1).
KNOWN = {0: "WjnegYbwZ1", 1: "VolejRejNm", 2: "Wpmbk5ezJn", 3: "Opnel5aKBz", 4: "wMvbmOeYAl", 7: "k8mep2bMyJ"}


@pytest.mark.parametrize("key,hashed", sorted(KNOWN.items()))
def test_codec_matches_php_hashids(codec, key, hashed):
    assert codec.encode(key) == hashed
    assert codec.decode(hashed) == key


def test_codec_is_case_sensitive_and_rejects_garbage(codec):
    assert codec.decode("opnel5aKBz") is None
    assert codec.decode("D2J234DFA") is None  # the OpenAPI spec's fake example id
    assert codec.decode("") is None


def test_salt_changes_the_hash():
    salted = HashidCodec("pepper")
    assert salted.encode(3) != "Opnel5aKBz"
    assert salted.decode(salted.encode(3)) == 3
    assert HashidCodec("").decode(salted.encode(3)) != 3


def test_codec_caches_conversions(codec):
    codec.encode(123456)
    before = codec.encode.cache_info().hits
    codec.encode(123456)
    assert codec.encode.cache_info().hits == before + 1


KINDS = ["client", "invoice", "quote", "recurring_invoice", "payment", "contact"]


@given(kind=st.sampled_from(KINDS), key=st.integers(min_value=1, max_value=2**29 - 2))
def test_scheme_round_trips_from_v5(ids, codec, kind, key):
    v5_id = codec.encode(key)
    v4_id = ids.to_v4(kind, v5_id)
    assert 0 < v4_id <= V4_ID_MAX
    assert ids.to_v5(kind, v4_id) == v5_id
    assert ids.locate("invoice" if kind in ("quote", "recurring_invoice") else kind, v4_id) == (kind, v5_id)


@given(a=st.sampled_from(["invoice", "quote", "recurring_invoice"]),
       b=st.sampled_from(["invoice", "quote", "recurring_invoice"]),
       key_a=st.integers(1, 2**29 - 2), key_b=st.integers(1, 2**29 - 2))
def test_invoice_space_is_never_ambiguous(ids, codec, a, b, key_a, key_b):
    """Invoices, quotes and recurring invoices share v4's id space: distinct records, distinct ids."""
    if (a, key_a) != (b, key_b):
        assert ids.to_v4(a, codec.encode(key_a)) != ids.to_v4(b, codec.encode(key_b))


def test_plain_invoice_ids_are_the_v5_key(ids):
    assert ids.to_v4("invoice", "Opnel5aKBz") == 3
    assert ids.to_v4("client", "Opnel5aKBz") == 3
    assert ids.to_v4("quote", "Opnel5aKBz") == KIND_WINDOWS["quote"][0] + 3


def test_keys_beyond_32_bits_are_refused(ids, codec):
    with pytest.raises(IdError):
        ids.to_v4("client", codec.encode(2**31))
    with pytest.raises(IdError):
        ids.to_v4("invoice", codec.encode(2**30))  # would run into the quote window


def test_undecodable_and_misplaced_ids_are_refused(ids):
    with pytest.raises(IdError):
        ids.to_v4("client", "not-a-hash")
    with pytest.raises(IdError):
        ids.to_v5("invoice", KIND_WINDOWS["quote"][0] + 5)
    with pytest.raises(IdError):
        ids.to_v5("client", 0)
