"""The mapped id translator: the design's invariants 1, 2 and 4 as properties, and 5 (refusals)."""

from __future__ import annotations

import pytest
from hypothesis import given, settings, strategies as st

from ninja_bridge.ids.idmap import (
    DEFAULT_NATIVE_BASE, IdMap, IdMapError, IdPair, MappedIdTranslator, check_native_base,
)
from ninja_bridge.ids.translator import V4_ID_MAX, IdError, kind_windows, space_of

KINDS = ["client", "contact", "invoice", "quote", "recurring_invoice", "payment", "product"]
INVOICE_SPACE = ["invoice", "quote", "recurring_invoice"]


@st.composite
def id_maps(draw, native_base=st.sampled_from([1000, 2**20 * 8, DEFAULT_NATIVE_BASE])):
    """A valid map: distinct v4 ids per space below the base, distinct v5 keys per kind."""
    base = draw(native_base)
    pairs, used_v4, used_v5 = [], set(), set()
    for kind, v4_id, key in draw(st.lists(st.tuples(st.sampled_from(KINDS), st.integers(1, base - 1),
                                                    st.integers(1, 10**6)), max_size=40)):
        space = space_of(kind)
        if (space, v4_id) in used_v4 or (kind, key) in used_v5:
            continue
        used_v4.add((space, v4_id))
        used_v5.add((kind, key))
        pairs.append((space, v4_id, kind, key))
    return base, pairs


def translator_for(codec, base, pairs) -> MappedIdTranslator:
    idmap = IdMap.build([IdPair(s, v4, k, codec.encode(key)) for s, v4, k, key in pairs], base)
    return MappedIdTranslator(idmap, codec)


@settings(max_examples=150, deadline=None)
@given(mapped=id_maps(), kind=st.sampled_from(KINDS), key=st.integers(1, 2**27))
def test_round_trip_from_v5_for_mapped_and_native_records(codec, mapped, kind, key):
    """Invariants 1 and 4: v5 -> v4 -> v5 is the identity, and v4 ids are positive int32."""
    base, pairs = mapped
    ids = translator_for(codec, base, pairs)
    v5_id = codec.encode(key)
    try:
        v4_id = ids.to_v4(kind, v5_id)
    except IdError:
        # Only a native key too big for its window may be refused, never a mapped record.
        assert (kind, key) not in {(k, n) for _, _, k, n in pairs}
        assert key >= kind_windows(base).get(kind, (base, V4_ID_MAX + 1 - base))[1]
        return
    assert 0 < v4_id <= V4_ID_MAX
    assert ids.to_v5(kind, v4_id) == v5_id
    assert ids.locate(space_of(kind), v4_id) == (kind, v5_id)


@settings(max_examples=150, deadline=None)
@given(mapped=id_maps(), kind=st.sampled_from(KINDS), v4_id=st.integers(1, V4_ID_MAX))
def test_round_trip_from_v4(codec, mapped, kind, v4_id):
    """Invariant 1 the other way: every v4 id that names a record names it again after a round trip."""
    base, pairs = mapped
    ids = translator_for(codec, base, pairs)
    for space, mapped_id, mapped_kind, key in pairs:  # every legacy id comes back as itself
        assert ids.to_v5(mapped_kind, mapped_id) == codec.encode(key)
        assert ids.to_v4(mapped_kind, codec.encode(key)) == mapped_id
    try:
        v5_id = ids.to_v5(kind, v4_id)
    except IdError:
        return
    assert ids.to_v4(kind, v5_id) == v4_id


@settings(max_examples=150, deadline=None)
@given(mapped=id_maps(), records=st.lists(st.tuples(st.sampled_from(KINDS), st.integers(1, 2**27)),
                                          min_size=2, max_size=30, unique=True))
def test_no_two_records_share_a_v4_id_in_one_space(codec, mapped, records):
    """Invariant 2: distinct v5 records (mapped or native, any kinds) never show the same v4 id in one space."""
    base, pairs = mapped
    ids = translator_for(codec, base, pairs)
    records = records + [(k, n) for _, _, k, n in pairs]
    seen: dict[tuple[str, int], tuple[str, int]] = {}
    for kind, key in set(records):
        try:
            v4_id = ids.to_v4(kind, codec.encode(key))
        except IdError:
            continue
        other = seen.setdefault((space_of(kind), v4_id), (kind, key))
        assert other == (kind, key), f"{other} and {(kind, key)} both show as {space_of(kind)} {v4_id}"


@given(key=st.integers(1, 2**27))
def test_a_mapped_record_never_answers_to_its_native_id(codec, key):
    """The native id a mapped record would have had must not reach it (one record, one v4 id)."""
    ids = translator_for(codec, 1000, [("client", 7, "client", key)])
    native_id = 1000 + key
    with pytest.raises(IdError):
        ids.to_v5("client", native_id)
    assert ids.to_v4("client", codec.encode(key)) == 7


def test_lookups_in_the_shared_invoice_space(codec):
    ids = translator_for(codec, 1000, [("invoice", 1, "invoice", 201), ("invoice", 2, "quote", 201),
                                       ("invoice", 3, "recurring_invoice", 201)])
    same_hash = codec.encode(201)  # v5 gives all three the same key: three tables
    assert [ids.to_v4(k, same_hash) for k in INVOICE_SPACE] == [1, 2, 3]
    assert ids.locate("invoice", 2) == ("quote", same_hash)
    with pytest.raises(IdError):
        ids.to_v5("invoice", 2)  # a quote's id is not an invoice id
    with pytest.raises(IdError):
        ids.to_v5("invoice", 4)  # below the base and not mapped: no such legacy record
    native_quote = ids.to_v4("quote", codec.encode(5))
    assert native_quote == kind_windows(1000)["quote"][0] + 5
    assert ids.locate("invoice", native_quote) == ("quote", codec.encode(5))


def test_designs_are_never_mapped(codec):
    ids = translator_for(codec, 1000, [])
    assert ids.to_v4("design", codec.encode(3)) == 3
    assert ids.to_v5("design", 3) == codec.encode(3)


@pytest.mark.parametrize("pair,reason", [
    (IdPair("client", 1000, "client", "x"), "inside the native range"),
    (IdPair("client", 2**31, "client", "x"), "over 2^31-1"),
    (IdPair("client", 0, "client", "x"), "positive"),
    (IdPair("invoice", 5, "client", "x"), "lives in the v4 client id space"),
    (IdPair("design", 5, "design", "x"), "never mapped"),
])
def test_unsafe_pairs_are_refused_with_the_reason(pair, reason):
    with pytest.raises(IdMapError) as caught:
        IdMap.build([pair], 1000)
    assert reason in str(caught.value)


def test_duplicates_are_refused_both_ways():
    with pytest.raises(IdMapError) as caught:
        IdMap.build([IdPair("invoice", 5, "invoice", "a"), IdPair("invoice", 5, "quote", "b")], 1000)
    assert "one v4 id, two records" in str(caught.value)
    with pytest.raises(IdMapError) as caught:
        IdMap.build([IdPair("client", 5, "client", "a"), IdPair("client", 6, "client", "a")], 1000)
    assert "one record, two v4 ids" in str(caught.value)


def test_v5_ids_of_another_salt_are_refused(codec):
    from ninja_bridge.ids.codec import HashidCodec

    with pytest.raises(IdMapError) as caught:
        IdMap.build([IdPair("client", 5, "client", HashidCodec("other").encode(99))], 1000, codec)
    assert "HASH_SALT" in str(caught.value)


def test_native_base_needs_room_for_every_window():
    assert check_native_base(DEFAULT_NATIVE_BASE) == []
    assert "choose a lower base" in check_native_base(V4_ID_MAX - 1000)[0]
    assert check_native_base(1)


def test_a_reload_may_not_move_the_native_base(codec):
    ids = translator_for(codec, 1000, [])
    with pytest.raises(IdMapError):
        ids.replace(IdMap.build([], 2000))
    ids.replace(IdMap.build([IdPair("client", 3, "client", codec.encode(9))], 1000))
    assert ids.to_v5("client", 3) == codec.encode(9)


def test_mapped_lookups_never_touch_the_hashids_codec(codec):
    """Mapped records are answered from the two dicts alone: no hashing, no scan."""
    ids = translator_for(codec, DEFAULT_NATIVE_BASE, [("client", n, "client", n) for n in range(1, 1001)])

    class NoHashing:
        def encode(self, key):
            raise AssertionError("hashed on the hot path")

        decode = encode

    ids.codec = ids.native.codec = NoHashing()
    for n in range(1, 1001):
        v5_id = codec.encode(n)
        assert ids.to_v4("client", v5_id) == n
        assert ids.to_v5("client", n) == v5_id
        assert ids.locate("client", n) == ("client", v5_id)


def test_v4_rows_without_an_id_are_reported_not_dropped_silently():
    from ninja_bridge.idmap.build import Links, detail_lines, match_kind

    report = match_kind("tax_rate", [{"id": None, "name": "VAT", "rate": 20}], [], Links())
    assert report.v4_without_id == 1 and report.as_dict()["v4_without_id"] == 1
    assert detail_lines([report]) == ["tax_rate: 1 v4 record(s) without a usable id were left out"]
