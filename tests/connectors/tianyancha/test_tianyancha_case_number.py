"""The 案号 parser in schemas.canonical.litigation (used by every litigation connector)."""

from __future__ import annotations

import pytest

from schemas.canonical.litigation import (
    LitigationCase,
    PartyRole,
    normalize_role,
    parse_case_number,
)


@pytest.mark.parametrize(
    ("raw", "parts"),
    [
        ("(2023)京0105民初12345号", (2023, "京0105", "民初", "12345")),
        ("（2021）京01民终678号", (2021, "京01", "民终", "678")),
        ("〔2020〕粤03执恢12号", (2020, "粤03", "执恢", "12")),
        ("(2019)沪0115执12345号", (2019, "沪0115", "执", "12345")),
        ("（2021）最高法民申1234号", (2021, "最高法", "民申", "1234")),
        (" (2022)浙0102财保5号 ", (2022, "浙0102", "财保", "5")),
        ("(2018)苏05刑终1-3号", (2018, "苏05", "刑终", "1-3")),
    ],
)
def test_well_formed_numbers_parse(raw: str, parts: tuple[object, ...]) -> None:
    number = parse_case_number(raw)
    assert number.raw == raw
    assert (number.year, number.court_code, number.case_type, number.sequence) == parts
    assert number.parsed


@pytest.mark.parametrize(
    "raw",
    ["", "bogus", "(2023)京民初号", "2023京0105民初12345", "(23)京0105民初1号", "(2023)X0105民初1号"],
)
def test_malformed_numbers_are_kept_raw(raw: str) -> None:
    number = parse_case_number(raw)
    assert number.raw == raw
    assert (number.year, number.court_code, number.case_type, number.sequence) == (None,) * 4
    assert not number.parsed and number.procedure is None and number.province is None


def test_derived_parts() -> None:
    number = parse_case_number("(2023)京0105民初12345号")
    assert (number.procedure, number.province, number.is_enforcement) == ("一审", "京", False)
    assert parse_case_number("(2022)粤0305执1234号").is_enforcement


def test_case_fills_parsed_number_and_keeps_old_constructor() -> None:
    case = LitigationCase(case_number="(2023)京0105民初12345号", role="被告")
    assert case.parsed_number is not None and case.parsed_number.sequence == "12345"
    assert case.is_defendant
    assert LitigationCase.model_validate_json(case.model_dump_json()) == case


@pytest.mark.parametrize(
    ("raw", "role"),
    [
        ("被告", PartyRole.DEFENDANT),
        ("原审被告", PartyRole.DEFENDANT),
        ("上诉人（原审被告）", PartyRole.APPELLANT),
        ("被上诉人(原审原告)", PartyRole.APPELLEE),
        ("申请执行人", PartyRole.ENFORCEMENT_APPLICANT),
        ("被执行人", PartyRole.EXECUTED),
        ("案外人", PartyRole.OTHER),
        ("", PartyRole.OTHER),
    ],
)
def test_roles_normalise(raw: str, role: PartyRole) -> None:
    assert normalize_role(raw) is role
