"""Revealing personal data in clear: an explicit action, with a stated purpose, always audited.

Sealed values load masked (``core.pii.PII``); the only way to the clear text for a caller is
``reveal``, which checks the caller's ``pii.reveal.<class>`` permission, refuses without a purpose,
and writes an audit entry naming the field, the target and the purpose in the caller's transaction.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from core import audit
from core.errors import Forbidden, Invalid

from .actor import Actor
from .permissions import reveal_permission

__all__ = ["MIN_PURPOSE_LENGTH", "check_reveal", "mask_tree", "record_reveal", "reveal_fields"]

MIN_PURPOSE_LENGTH = 4


def check_reveal(actor: Actor, field_class: str, purpose: str | None) -> str:
    """The cleaned purpose, once the actor may reveal ``field_class`` and gave a purpose."""
    permission = reveal_permission(field_class)
    if not actor.can(permission):
        raise Forbidden("auth.forbidden", permission=permission)
    cleaned = (purpose or "").strip()
    if len(cleaned) < MIN_PURPOSE_LENGTH:
        raise Invalid(
            "pii.reveal_purpose_required",
            errors=[{"loc": ["query", "purpose"], "code": "pii.reveal_purpose_required"}],
        )
    return cleaned[:500]


async def record_reveal(
    session: AsyncSession,
    actor: Actor,
    *,
    field_class: str,
    fields: list[str],
    purpose: str,
    target_type: str,
    target_id: str,
) -> None:
    """Audit one reveal (call after ``check_reveal``, in the transaction that answers)."""
    await audit.record(
        session,
        actor,
        "pii.reveal",
        target_type=target_type,
        target_id=target_id,
        after={"class": field_class, "fields": fields, "purpose": purpose},
    )


async def reveal_fields(
    session: AsyncSession,
    actor: Actor,
    requested: Iterable[str] | None,
    purpose: str | None,
    *,
    revealable: Sequence[str],
    unknown_code: str,
    target_type: str,
    target_id: str,
) -> frozenset[str]:
    """The fields a read shows in clear: each known, permitted and purposed, one audit entry per field.

    Raises:
        Invalid: ``unknown_code`` naming the fields the record does not have in ``revealable``;
            ``pii.reveal_purpose_required``.
        Forbidden: the caller lacks ``pii.reveal.<field>``.
    """
    fields = frozenset(requested or [])
    if unknown := fields - set(revealable):
        raise Invalid(
            unknown_code,
            errors=[{"field": "reveal", "code": unknown_code}],
            known=", ".join(revealable),
            unknown=", ".join(sorted(unknown)),
        )
    for name in sorted(fields):
        cleaned = check_reveal(actor, name, purpose)
        await record_reveal(
            session,
            actor,
            field_class=name,
            fields=[name],
            purpose=cleaned,
            target_type=target_type,
            target_id=target_id,
        )
    return fields


def mask_tree(value: Any) -> Any:
    """A JSON value with its shape kept and every scalar leaf replaced by ``***``."""
    if isinstance(value, dict):
        return {key: mask_tree(item) for key, item in value.items()}
    if isinstance(value, list):
        return [mask_tree(item) for item in value]
    return None if value is None else "***"
