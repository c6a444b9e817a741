"""What a caller may set on a customer, checked field by field, and how it is stored.

Checks run over all fields before anything is written, so an officer sees every problem of a form
at once. Clear values become sealed ``PII`` with their blind and hint indexes here, in one place,
for registration, bulk import and updates alike.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from typing import Any

from core.pii import PII, blind_index

from .identity import FieldProblem, check_bank_card, check_id_number, check_mobile, check_uscc
from .models import CHANNELS, CustomerKind
from .repository import hint_index

__all__ = ["MAX_TAGS", "Checked", "CustomerFields", "audit_view", "check_fields", "seal_values"]

MAX_TAGS = 30


@dataclass
class CustomerFields:
    """What a caller may set on a customer; ``None`` leaves a field as it is (or empty, on create)."""

    kind: str | None = None
    name: str | None = None
    id_number: str | None = None
    uscc: str | None = None
    mobile: str | None = None
    bank_card: str | None = None
    address: str | None = None
    channel: str | None = None
    channel_partner: str | None = None
    tags: list[str] | None = None
    profile: dict[str, Any] | None = None
    owner: str | None = None  # username of the officer the customer belongs to
    unset: set[str] = field(default_factory=set)  # optional fields to clear


@dataclass
class Checked:
    """The clear values that passed and a problem entry per field that did not."""

    values: dict[str, Any] = field(default_factory=dict)
    errors: list[dict[str, Any]] = field(default_factory=list)

    def run(self, name: str, check: Any, *args: Any, **kwargs: Any) -> Any:
        """``check(*args)``'s result, or ``None`` with its problem noted against field ``name``."""
        try:
            return check(*args, **kwargs)
        except FieldProblem as problem:
            self.errors.append(problem.as_error(name))
            return None


def check_fields(fields: CustomerFields, kind: str, *, today: date, creating: bool) -> Checked:
    """Every field's check at once; on create the required fields of ``kind`` must be present."""
    checked = Checked()
    if creating and kind not in {k.value for k in CustomerKind}:
        checked.errors.append({"field": "kind", "code": "customers.kind_unknown", "params": {"kind": kind}})
        return checked
    if fields.name is not None or creating:
        name = " ".join((fields.name or "").split())
        if not name or len(name) > 200:
            checked.errors.append({"field": "name", "code": "customers.name_required"})
        checked.values["name"] = name
    person = kind == CustomerKind.PERSON
    if person:
        if fields.uscc is not None:
            checked.errors.append({"field": "uscc", "code": "customers.uscc_for_enterprises"})
        if fields.id_number is not None:
            found = checked.run("id_number", check_id_number, fields.id_number, today=today)
            if found is not None:
                checked.values.update(
                    id_number=found.number, birth_date=found.birth_date, gender=found.gender
                )
        elif creating:
            checked.errors.append({"field": "id_number", "code": "customers.id_number_required"})
    else:
        if fields.id_number is not None:
            checked.errors.append({"field": "id_number", "code": "customers.id_number_for_persons"})
        if fields.uscc is not None:
            checked.values["uscc"] = checked.run("uscc", check_uscc, fields.uscc)
        elif creating:
            checked.errors.append({"field": "uscc", "code": "customers.uscc_required"})
    if fields.mobile is not None:
        checked.values["mobile"] = checked.run("mobile", check_mobile, fields.mobile)
    elif creating and person:
        checked.errors.append({"field": "mobile", "code": "customers.mobile_required"})
    if fields.bank_card is not None:
        checked.values["bank_card"] = checked.run("bank_card", check_bank_card, fields.bank_card)
    if fields.address is not None:
        address = " ".join(fields.address.split())
        if len(address) > 300:
            checked.errors.append({"field": "address", "code": "customers.address_too_long"})
        checked.values["address"] = address or None
    if fields.channel is not None:
        if fields.channel not in CHANNELS:
            checked.errors.append(
                {
                    "field": "channel",
                    "code": "customers.channel_unknown",
                    "params": {"known": ", ".join(CHANNELS)},
                }
            )
        checked.values["channel"] = fields.channel
    if fields.channel_partner is not None:
        checked.values["channel_partner"] = fields.channel_partner.strip() or None
    if fields.tags is not None:
        tags = sorted({t.strip() for t in fields.tags if t.strip()})
        if len(tags) > MAX_TAGS or any(len(t) > 50 for t in tags):
            checked.errors.append(
                {"field": "tags", "code": "customers.tags_invalid", "params": {"max": MAX_TAGS}}
            )
        checked.values["tags"] = tags
    if fields.profile is not None:
        checked.values["profile"] = fields.profile
    for name in fields.unset:
        if name not in {"mobile", "bank_card", "address", "channel_partner"} or (name == "mobile" and person):
            checked.errors.append({"field": name, "code": "customers.cannot_unset"})
        else:
            checked.values[name] = None
    return checked


def seal_values(values: dict[str, Any]) -> dict[str, Any]:
    """Column values for the checked clear values: sealed PII plus its blind and hint indexes."""
    columns = dict(values)
    for field_class in ("id_number", "mobile", "bank_card"):
        if field_class not in values:
            continue
        clear = values[field_class]
        columns[field_class] = PII(field_class, clear) if clear else None
        columns[f"{field_class}_index"] = blind_index(field_class, clear) if clear else None
        if field_class == "id_number":
            columns["id_hint_index"] = hint_index(field_class, clear) if clear else None
        if field_class == "mobile":
            columns["mobile_hint_index"] = hint_index(field_class, clear) if clear else None
    if "address" in values:
        columns["address"] = PII("address", values["address"]) if values["address"] else None
    return columns


def audit_view(customer: Any) -> dict[str, Any]:
    """The fields an audit entry keeps: personal data only in masked form."""
    return {
        "kind": customer.kind,
        "name": customer.name,
        "id_number": str(customer.id_number) if customer.id_number else None,
        "uscc": customer.uscc,
        "mobile": str(customer.mobile) if customer.mobile else None,
        "bank_card": str(customer.bank_card) if customer.bank_card else None,
        "address": str(customer.address) if customer.address else None,
        "channel": customer.channel,
        "channel_partner": customer.channel_partner,
        "owner_id": customer.owner_id,
        "branch_id": customer.branch_id,
        "status": customer.status,
        "tags": list(customer.tags or []),
    }
