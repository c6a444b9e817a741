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
