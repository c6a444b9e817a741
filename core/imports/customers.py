"""The customer import template: which columns it has, their Chinese headers, how a row maps.

The template's headers are Chinese first (what branch staff fill in); the English field names are
accepted too, so a system export can be loaded as is. Unknown columns are refused up front, not
ignored: a misspelt ``手机`` column silently dropped would import thousands of customers without
mobiles.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from core.customers.service import CustomerFields

__all__ = ["COLUMNS", "Column", "HeaderProblem", "map_header", "row_fields", "template_header"]


@dataclass(frozen=True)
class Column:
    """One template column: the field, its Chinese header, and other names accepted."""

    field: str
    header: str
    aliases: tuple[str, ...] = ()
    required: bool = False


COLUMNS = (
    Column("kind", "客户类型", ("类型", "type"), required=True),
    Column("name", "客户名称", ("姓名", "名称", "企业名称"), required=True),
    Column("id_number", "身份证号", ("身份证号码", "证件号码", "id_card")),
    Column("uscc", "统一社会信用代码", ("信用代码", "社会信用代码")),
    Column("mobile", "手机号", ("手机号码", "手机", "phone")),
    Column("bank_card", "银行卡号", ("卡号",)),
    Column("address", "地址", ("联系地址", "住址")),
    Column("channel", "渠道", ()),
    Column("channel_partner", "渠道合作方", ("合作方",)),
    Column("tags", "标签", ("tag",)),
    Column("owner", "客户经理", ("归属客户经理", "officer")),
)

KINDS = {"个人": "person", "企业": "enterprise", "person": "person", "enterprise": "enterprise"}
CHANNELS = {
    "线上": "online",
    "合作方推荐": "partner_referral",
    "线下": "offline",
    "网点": "offline",
    "活动": "campaign",
}


class HeaderProblem(Exception):
    """The header row does not fit the template; the message names the columns."""

    def __init__(self, code: str, columns: list[str]) -> None:
        super().__init__(f"{code}: {', '.join(columns)}")
        self.code = code
        self.columns = columns


def template_header() -> list[str]:
    """The header row of a blank template."""
    return [column.header for column in COLUMNS]


def map_header(header: list[str]) -> dict[int, str]:
    """Column position → field, refusing unknown, repeated and missing required columns."""
    names: dict[str, str] = {}
    for column in COLUMNS:
        for name in (column.header, column.field, *column.aliases):
            names[name.strip().lower()] = column.field
    mapping: dict[int, str] = {}
    unknown = []
    for position, text in enumerate(header):
        key = text.strip().lower()
        if not key:
            continue
        field = names.get(key)
        if field is None:
            unknown.append(text)
        elif field in mapping.values():
            raise HeaderProblem("imports.column_repeated", [text])
        else:
            mapping[position] = field
    if unknown:
        raise HeaderProblem("imports.column_unknown", unknown)
    missing = [c.header for c in COLUMNS if c.required and c.field not in mapping.values()]
    if missing:
        raise HeaderProblem("imports.column_missing", missing)
    return mapping


def row_fields(mapping: dict[int, str], cells: list[str], *, default_owner: str | None) -> CustomerFields:
    """The customer fields of one row; blank cells are absent, Chinese labels become codes."""
    values: dict[str, Any] = {}
    for position, field in mapping.items():
        value = cells[position].strip() if position < len(cells) else ""
        if value:
            values[field] = value
    tags = values.pop("tags", None)
    kind = values.pop("kind", "")
    channel = values.pop("channel", None)
    fields = CustomerFields(
        kind=KINDS.get(kind.lower(), kind),
        channel=CHANNELS.get(channel, channel) if channel else "offline",
        tags=[t for t in tags.replace("，", ",").replace("；", ",").replace(";", ",").split(",")]
        if tags
        else None,
        **values,
    )
    if fields.owner is None:
        fields.owner = default_owner
    return fields
