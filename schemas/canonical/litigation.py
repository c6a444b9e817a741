"""Court cases and enforcement lists about a person or company.

Every litigation vendor (天眼查, 企查查, …) reports the same four things, and the CRM decides on
them without reading vendor payloads:

* cases (涉诉案件), each with its 案号 parsed into year, court code, case type and sequence so
  rules can say "any civil first-instance case filed in the last two years";
* dishonest executed persons (失信被执行人);
* executed persons (被执行人);
* consumption restrictions (限制高消费令, 限高).

The 案号 format follows the Supreme People's Court 2016 rules: ``(收案年度)`` + 法院代字 + 类型代字 +
案件编号 + ``号``, e.g. ``(2023)京0105民初12345号``. A number that does not follow it is kept raw
with its parsed parts ``None``: a vendor's typo must never lose a case.
"""

from __future__ import annotations

import re
from datetime import date
from enum import StrEnum
from typing import Any

from pydantic import BaseModel, ConfigDict, model_validator

from .common import CanonicalModel, Money

__all__ = [
    "CaseNumber",
    "CaseParty",
    "ConsumptionRestriction",
    "DishonestRecord",
    "ExecutedRecord",
    "LitigationCase",
    "LitigationRecord",
    "PartyRole",
    "normalize_role",
    "parse_case_number",
]

_PROVINCES = "京津沪渝冀豫云辽黑湘皖鲁新苏浙赣鄂桂甘晋蒙陕吉闽贵粤青藏川宁琼兵港澳台军"
_CASE_NUMBER = re.compile(
    r"^[\(（〔\[]\s*(?P<year>\d{4})\s*[\)）〕\]]\s*"
    rf"(?P<court>最高法|[{_PROVINCES}][0-9]*)"
    r"(?P<type>[\u4e00-\u9fff]{1,3}?)"
    r"(?P<seq>[0-9][0-9\-、之]*)号$"
)

# 类型代字 → the trial round it stands for; the case type decides what a case means for credit.
_PROCEDURES = {
    "民初": "一审",
    "民终": "二审",
    "民申": "再审审查",
    "民再": "再审",
    "刑初": "一审",
    "刑终": "二审",
    "行初": "一审",
    "行终": "二审",
    "执": "执行",
    "执恢": "恢复执行",
    "执异": "执行异议",
    "执复": "执行复议",
    "执保": "财产保全执行",
    "破": "破产",
    "财保": "诉前财产保全",
    "民特": "特别程序",
    "民督": "督促程序",
}


class CaseNumber(BaseModel):
    """A 案号 and its parts; parts are ``None`` when the number does not follow the 2016 rules.

    Attributes:
        raw: the number exactly as the vendor gave it.
        year: 收案年度.
        court_code: 法院代字 (``京0105`` is the Chaoyang basic court, ``最高法`` the Supreme Court).
        case_type: 类型代字 (``民初`` civil first instance, ``执`` enforcement, …).
        sequence: 案件编号, kept as text because ranges such as ``123-125`` occur.
    """

    model_config = ConfigDict(frozen=True)

    raw: str
    year: int | None = None
    court_code: str | None = None
    case_type: str | None = None
    sequence: str | None = None

    @property
    def parsed(self) -> bool:
        """Whether the number followed the format."""
        return self.year is not None

    @property
    def province(self) -> str | None:
        """Province abbreviation of the court (``京``), ``最高法`` for the Supreme Court."""
        if self.court_code is None:
            return None
        return "最高法" if self.court_code == "最高法" else self.court_code[0]

    @property
    def procedure(self) -> str | None:
        """The trial round the case type stands for (一审, 二审, 执行, …), when known."""
        return _PROCEDURES.get(self.case_type or "")

    @property
    def is_enforcement(self) -> bool:
        """Whether this is an enforcement (执行) case: money the court is collecting."""
        return (self.case_type or "").startswith("执")


def parse_case_number(raw: str) -> CaseNumber:
    """Parse a 案号 such as ``(2023)京0105民初12345号`` (full-width brackets and 〔〕 too).

    Args:
        raw: the case number as a vendor wrote it; surrounding blanks are ignored.

    Returns:
        A :class:`CaseNumber`; an unparseable number keeps ``raw`` with every part ``None``.
    """
    text = raw.strip().replace(" ", "")
    match = _CASE_NUMBER.match(text)
    if match is None:
        return CaseNumber(raw=raw)
    return CaseNumber(
        raw=raw,
        year=int(match["year"]),
        court_code=match["court"],
        case_type=match["type"],
        sequence=match["seq"],
    )


class PartyRole(StrEnum):
    """A party's role in a case, in the vocabulary of 裁判文书 (value is the Chinese term)."""

    PLAINTIFF = "原告"
    DEFENDANT = "被告"
    APPELLANT = "上诉人"
    APPELLEE = "被上诉人"
    ENFORCEMENT_APPLICANT = "申请执行人"
    EXECUTED = "被执行人"
    THIRD_PARTY = "第三人"
    APPLICANT = "申请人"
    RESPONDENT = "被申请人"
    OTHER = "其他"


_ROLE_ALIASES = {
    "原审原告": PartyRole.PLAINTIFF,
    "起诉人": PartyRole.PLAINTIFF,
    "原审被告": PartyRole.DEFENDANT,
    "被起诉人": PartyRole.DEFENDANT,
    "上诉人(原审被告)": PartyRole.APPELLANT,
    "上诉人(原审原告)": PartyRole.APPELLANT,
    "被上诉人(原审原告)": PartyRole.APPELLEE,
    "被上诉人(原审被告)": PartyRole.APPELLEE,
    "再审申请人": PartyRole.APPLICANT,
    "再审被申请人": PartyRole.RESPONDENT,
}


def normalize_role(raw: str) -> PartyRole:
    """Map a vendor's role label onto :class:`PartyRole`; unknown labels become ``OTHER``.

    Vendors decorate roles (``上诉人（原审被告）``, ``原审被告``); the CRM only needs the plain role.
    """
    text = raw.strip().replace("（", "(").replace("）", ")")
    if not text:
        return PartyRole.OTHER
    if text in _ROLE_ALIASES:
        return _ROLE_ALIASES[text]
    base = text.split("(", 1)[0]
    for role in PartyRole:
        if base == role.value:
            return role
    return _ROLE_ALIASES.get(base, PartyRole.OTHER)


def _fill_case_number(data: Any, field: str = "parsed_number") -> Any:
    """Fill ``parsed_number`` from ``case_number`` when a caller did not pass one."""
    if isinstance(data, dict) and data.get(field) is None and isinstance(data.get("case_number"), str):
        return {**data, field: parse_case_number(data["case_number"])}
    return data


class CaseParty(BaseModel):
    """A party to a case as the vendor lists it."""

    model_config = ConfigDict(frozen=True)

    name: str
    role: str = ""
    is_company: bool | None = None


class LitigationCase(BaseModel):
    """One case, with the subject's role in it (原告/被告/第三人).

    Attributes:
        case_number: the 案号 as the vendor gave it.
        parsed_number: its parts; filled from ``case_number`` when not given.
        cause: 案由 (e.g. 金融借款合同纠纷).
        court: the court's name.
        role: the subject's role, a :class:`PartyRole` value when it could be normalised.
        amount: 涉案金额.
        filed_on: 立案/收案 date when the vendor gives it.
        judged_on: 裁判日期.
        published_on: when the document was published.
        status: the vendor's status or the document kind (判决书, 裁定书…).
        title: the document title.
        parties: everyone the vendor lists.
        adverse: the vendor's verdict that the outcome went against the subject (天眼查 emotion −1).
    """

    model_config = ConfigDict(frozen=True)

    case_number: str
    cause: str = ""
    court: str = ""
    role: str = ""
    amount: Money | None = None
    filed_on: date | None = None
    judged_on: date | None = None
    status: str = ""
    parsed_number: CaseNumber | None = None
    published_on: date | None = None
    title: str = ""
    parties: tuple[CaseParty, ...] = ()
    adverse: bool | None = None

    @model_validator(mode="before")
    @classmethod
    def _parse_number(cls, data: Any) -> Any:
        return _fill_case_number(data)

    @property
    def is_defendant(self) -> bool:
        """Whether the subject is on the defending side (被告, 被上诉人, 被执行人, 被申请人)."""
        return self.role in (
            PartyRole.DEFENDANT,
            PartyRole.APPELLEE,
            PartyRole.EXECUTED,
            PartyRole.RESPONDENT,
        )


class DishonestRecord(BaseModel):
    """失信被执行人: the subject ignored a court order it was able to obey.

    Attributes:
        case_number: the enforcement 案号.
        court: the executing court.
        published_on: when the court published the listing.
        obligation: 生效法律文书确定的义务.
        parsed_number: parts of ``case_number``.
        name: the listed person or company.
        id_number_masked: the ID or organisation code as the vendor masks it.
        filed_on: 立案日期.
        performance: 履行情况 (全部未履行, 部分履行…).
        conduct: 失信被执行人行为具体情形.
        basis_number: 执行依据文号.
        basis_unit: who issued the basis (做出执行依据单位).
        amount: the amount involved when the vendor gives it.
    """

    model_config = ConfigDict(frozen=True)

    case_number: str
    court: str
    published_on: date | None = None
    obligation: str = ""
    parsed_number: CaseNumber | None = None
    name: str = ""
    id_number_masked: str = ""
    filed_on: date | None = None
    performance: str = ""
    conduct: str = ""
    basis_number: str = ""
    basis_unit: str = ""
    amount: Money | None = None

    @model_validator(mode="before")
    @classmethod
    def _parse_number(cls, data: Any) -> Any:
        return _fill_case_number(data)


class ExecutedRecord(BaseModel):
    """被执行人: an enforcement case against the subject, with the amount being enforced."""

    model_config = ConfigDict(frozen=True)

    case_number: str
    court: str
    amount: Money | None = None
    filed_on: date | None = None
    parsed_number: CaseNumber | None = None
    name: str = ""
    id_number_masked: str = ""
    status: str = ""

    @model_validator(mode="before")
    @classmethod
    def _parse_number(cls, data: Any) -> Any:
        return _fill_case_number(data)


class ConsumptionRestriction(BaseModel):
    """限制高消费令: the person (or a company's legal representative) may not spend lavishly.

    Attributes:
        case_number: the enforcement 案号 the order belongs to.
        court: the issuing court, when the vendor names it.
        published_on: when the order was published.
        parsed_number: parts of ``case_number``.
        restricted_person: 限制消费者 (for a company, usually its legal representative).
        company: the company the order concerns, if any.
        applicant: 申请人 (the creditor).
        filed_on: 立案日期.
    """

    model_config = ConfigDict(frozen=True)

    case_number: str
    court: str
    published_on: date | None = None
    parsed_number: CaseNumber | None = None
    restricted_person: str = ""
    company: str = ""
    applicant: str = ""
    filed_on: date | None = None

    @model_validator(mode="before")
    @classmethod
    def _parse_number(cls, data: Any) -> Any:
        return _fill_case_number(data)


class LitigationRecord(CanonicalModel):
    """All judicial data one vendor holds about a subject; empty lists mean a clean subject."""

    subject_name: str
    cases: tuple[LitigationCase, ...] = ()
    dishonest: tuple[DishonestRecord, ...] = ()
    executed: tuple[ExecutedRecord, ...] = ()
    restrictions: tuple[ConsumptionRestriction, ...] = ()

    @property
    def is_clean(self) -> bool:
        """No case and no listing of any kind."""
        return not (self.cases or self.dishonest or self.executed or self.restrictions)

    @property
    def is_dishonest(self) -> bool:
        """On the 失信 list: most lenders decline outright."""
        return bool(self.dishonest)

    @property
    def is_restricted(self) -> bool:
        """Under a 限高 order."""
        return bool(self.restrictions)
