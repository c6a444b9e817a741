"""The whole-document sealed column types: one ``Sealed`` family, one token format, clear on load."""

from __future__ import annotations

import pytest
from sqlalchemy.dialects import postgresql, sqlite

from core import pii
from core.pii import PII, Sealed, SealedBytes, SealedJSON

DIALECTS = [pytest.param(sqlite.dialect(), id="sqlite"), pytest.param(postgresql.dialect(), id="postgresql")]


@pytest.mark.parametrize("dialect", DIALECTS)
@pytest.mark.parametrize(
    ("column_type", "value"),
    [
        (SealedBytes("payload"), "欧阳娜娜 11010519900307123X".encode() + b"\x00\xff"),
        (SealedJSON("payload"), {"name": "欧阳娜娜", "ids": ["11010519900307123X"], "n": 1.5, "x": None}),
        (Sealed("payload"), "欧阳娜娜"),
    ],
    ids=["bytes", "json", "text"],
)
def test_values_are_sealed_as_pii1_text_under_their_field_class_and_load_back(dialect, column_type, value):
    bind = column_type.dialect_impl(dialect).bind_processor(dialect) or (lambda v: v)
    result = column_type.dialect_impl(dialect).result_processor(dialect, None) or (lambda v: v)
    stored = bind(value)
    assert isinstance(stored, str) and pii.KeyRing.kid_of(stored) == pii.current().current_kid
    assert "欧阳" not in stored and "11010519900307123X" not in stored
    assert pii.current().open(stored, "payload")  # bound to the class rotation re-seals it under
    loaded = result(stored)
    assert (loaded.reveal() if isinstance(loaded, PII) else loaded) == value
    assert bind(None) is None and result(None) is None
    assert column_type.compile(dialect=dialect) == "TEXT"


def test_every_sealed_type_is_found_by_one_isinstance_check_with_its_field_class():
    for column_type in (SealedBytes("payload"), SealedJSON("payload"), Sealed("mobile")):
        assert isinstance(column_type, Sealed) and column_type.field_class in ("payload", "mobile")


def test_a_sealed_document_moved_to_another_field_class_does_not_open():
    stored = SealedJSON("payload").process_bind_param({"a": 1}, sqlite.dialect())
    with pytest.raises(pii.KeyRingError, match="tampered or moved"):
        SealedJSON("address").process_result_value(stored, sqlite.dialect())


@pytest.fixture
def known_ring():
    before = pii.current()
    ring = pii.KeyRing([("k1", b"1" * 32)], b"i" * 32)
    pii.install(ring)
    yield ring
    pii.install(before)


@pytest.mark.parametrize(
    ("field_class", "value", "normalised"),
    [
        ("mobile", " +86 138-1234-5678 ", "13812345678"),
        ("mobile", "8613812345678", "13812345678"),
        ("mobile", "(0)13812345678", "013812345678"),
        ("mobile", "8713812345678", "8713812345678"),  # 13 digits, but no 86 in front
        ("mobile", "86138123456789", "86138123456789"),  # 86 in front, but 14 digits
        ("bank_card", "6222 0202 0011 2233 445", "6222020200112233445"),
        ("bank_card", "8622020200112", "8622020200112"),  # the +86 rule is for mobiles only
        ("id_number", " 110105 19900307 123x ", "11010519900307123X"),
        ("name", "  Alice   Smith ", "Alice Smith"),
        ("address", "上海市 浦东新区\t世纪大道 100号", "上海市 浦东新区 世纪大道 100号"),
        ("other", " A  b ", "A b"),
    ],
)
def test_normalise_makes_equal_values_equal(field_class, value, normalised):
    assert pii.normalise(field_class, value) == normalised


def test_blind_index_of_a_value_or_a_pii_is_the_rings_index_of_its_normalised_form(known_ring):
    expected = known_ring.blind_index("mobile", "13812345678")
    assert pii.blind_index("mobile", "+86 138 1234 5678") == expected
    assert pii.blind_index("mobile", PII("mobile", "138-1234-5678")) == expected
    assert pii.blind_index("bank_card", "13812345678") != expected  # the class is part of the index


def test_pii_values_compare_and_hash_by_class_and_value():
    a, same, other_value, other_class = (
        PII("mobile", "13812345678"),
        PII("mobile", "13812345678"),
        PII("mobile", "13812345679"),
        PII("bank_card", "13812345678"),
    )
    assert a == same and hash(a) == hash(same)
    assert a != other_value and a != other_class
    assert hash(a) != hash(other_value)
    assert len({a, same, other_value, other_class}) == 3
    assert a != "13812345678"


def test_sealed_text_stores_the_clear_value_of_a_pii_and_loads_it_with_its_class(known_ring):
    column = Sealed("mobile")
    stored = column.process_bind_param(PII("mobile", "13812345678"), sqlite.dialect())
    assert known_ring.open(stored, "mobile") == b"13812345678"  # the clear value, not the masked form
    loaded = column.process_result_value(stored, sqlite.dialect())
    assert (loaded.field_class, loaded.masked, loaded.reveal()) == ("mobile", "138****5678", "13812345678")


def test_sealed_json_is_encoded_compact_and_utf8_before_sealing(known_ring):
    stored = SealedJSON("payload").process_bind_param({"name": "欧阳娜娜", "n": [1, 2]}, sqlite.dialect())
    assert known_ring.open(stored, "payload") == '{"name":"欧阳娜娜","n":[1,2]}'.encode()
