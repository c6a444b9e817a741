"""How each class of personal data is shown to someone who may not see it: exact forms and edges."""

from __future__ import annotations

import pytest

from core.pii import PII
from core.pii.masking import mask


@pytest.mark.parametrize(
    ("field_class", "value", "masked"),
    [
        # ID numbers and bank cards keep the first 6 and the last 4.
        ("id_number", "11010519491231002X", "110105********002X"),
        ("id_number", "110105491231002", "110105*****1002"),
        ("id_number", "12345678901", "123456*8901"),  # one character more than is kept
        ("id_number", "1234567890", "**********"),  # nothing left to hide: all starred
        ("bank_card", "6222021234567890123", "622202*********0123"),
        ("bank_card", "4111111111111111", "411111******1111"),
        ("bank_card", "1234567890", "**********"),
        # Mobiles keep the first 3 and the last 4.
        ("mobile", "13812345678", "138****5678"),
        ("mobile", "+8613812345678", "+86*******5678"),
        ("mobile", "12345678", "123*5678"),
        ("mobile", "1234567", "*******"),
        # Very short values still show at least two stars, so length tells little.
        ("mobile", "123", "***"),
        ("mobile", "12", "**"),
        ("mobile", "1", "**"),
        ("mobile", "", "**"),
    ],
)
def test_numbers_keep_their_ends(field_class: str, value: str, masked: str) -> None:
    assert mask(field_class, value) == masked


@pytest.mark.parametrize(
    ("value", "masked"),
    [
        ("张三", "张*"),
        ("张", "张"),
        ("诸葛亮", "诸**"),  # three characters: one-character surname assumed
        ("欧阳娜娜", "欧阳**"),  # four or more: a two-character surname
        ("欧阳娜娜娜", "欧阳***"),
        ("Alice Smith", "A**** S****"),
        ("  Bob   Lee ", "B** L**"),
        ("X", "X"),
        ("", ""),
    ],
)
def test_names_keep_the_surname_or_initials(value: str, masked: str) -> None:
    assert mask("name", value) == masked


@pytest.mark.parametrize(
    ("value", "masked"),
    [
        ("北京市朝阳区建国路88号", "北京市朝****"),  # 12 characters: the first third
        ("北京市朝阳区建国路88号院3号楼2单元", "北京市朝阳区****"),  # 19 characters: 6
        ("广东省深圳市南山区科技园南区高新南七道18号", "广东省深圳市****"),  # 22: still never more than 6
        ("上海市", "上****"),
        ("ab", "****"),
        ("", "****"),
    ],
)
def test_addresses_keep_a_third_of_their_start_up_to_six(value: str, masked: str) -> None:
    assert mask("address", value) == masked


@pytest.mark.parametrize("field_class", ["email", "", "ID_NUMBER", "Mobile"])
def test_unknown_classes_are_fully_starred(field_class: str) -> None:
    assert mask(field_class, "13812345678") == "********"


def test_a_pii_value_shows_only_its_masked_form() -> None:
    value = PII("mobile", "13812345678")
    assert (value.masked, str(value), repr(value)) == (
        "138****5678",
        "138****5678",
        "PII(mobile, '138****5678')",
    )
    assert f"{value}" == "138****5678"
    assert value.reveal() == "13812345678"
