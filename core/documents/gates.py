"""Required-before-stage gates: the documents a record must hold before it may enter a stage.

Rules are data — ``{"stage": "submitted", "doc_types": ["id_card_front", "id_card_back"]}`` —
so a lender changes them without code (per product, from YAML or the product's settings). The
applications context asks ``missing_for`` when a transition is requested and raises
:class:`~core.documents.errors.DocumentsMissing` (409) through ``require_documents`` when
something is missing, naming each missing type.

Whose documents count: those of the record itself and, when ``customer_id`` is given, those
held on the customer. An ID card belongs to the person, not to one loan, so it is uploaded
once to the customer and satisfies the gate of each of their applications; a document uploaded
to one application counts only for that application. Deleted documents never count.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import and_, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from core.errors import Invalid

from .doctypes import DEFAULT_DOCUMENT_TYPES, DocumentTypes
from .errors import DocumentsMissing
from .models import Document

__all__ = [
    "DEFAULT_REQUIRED",
    "RequiredDocuments",
    "missing_for",
    "require_documents",
    "required_for",
    "rules_from_data",
]


@dataclass(frozen=True)
class RequiredDocuments:
    """One rule: before entering ``stage``, a record holds a live document of each of ``doc_types``."""

    stage: str
    doc_types: tuple[str, ...]


#: The built-in rule: an ID copy, both sides, before an application is submitted.
DEFAULT_REQUIRED: tuple[RequiredDocuments, ...] = (
    RequiredDocuments("submitted", ("id_card_front", "id_card_back")),
)

Rule = RequiredDocuments | Mapping[str, Any]


def rules_from_data(
    data: Iterable[Rule], types: DocumentTypes | None = DEFAULT_DOCUMENT_TYPES
) -> tuple[RequiredDocuments, ...]:
    """Rules from plain mappings (or rules), each checked: a stage, and known document types.

    ``types=None`` skips the document type check (the gate itself: rules were checked when loaded).

    Raises:
        Invalid: ``documents.bad_rule`` naming the entry (by position) and what is wrong with it.
    """
    rules = []
    for position, entry in enumerate(data):
        stage: Any
        doc_types: Any
        if isinstance(entry, RequiredDocuments):
            stage, doc_types = entry.stage, list(entry.doc_types)
        else:
            stage, doc_types = entry.get("stage"), entry.get("doc_types")
        if (
            not isinstance(stage, str)
            or not stage
            or not isinstance(doc_types, list | tuple)
            or not doc_types
        ):
            raise Invalid("documents.bad_rule", position=position, problem="stage and doc_types are required")
        unknown = [str(code) for code in doc_types if types is not None and code not in types]
        if unknown:
            raise Invalid(
                "documents.bad_rule", position=position, problem=f"unknown doc types {', '.join(unknown)}"
            )
        rules.append(RequiredDocuments(stage, tuple(str(code) for code in doc_types)))
    return tuple(rules)


def required_for(stage: str, rules: Iterable[Rule] = DEFAULT_REQUIRED) -> list[str]:
    """The document types the rules require before ``stage``, in rule order, each once."""
    required: list[str] = []
    for rule in rules_from_data(rules, types=None):
        if rule.stage == stage:
            required += [code for code in rule.doc_types if code not in required]
    return required


async def missing_for(
    session: AsyncSession,
    *,
    owner_kind: str,
    owner_record_ids: Sequence[str],
    stage: str,
    rules: Iterable[Rule] = DEFAULT_REQUIRED,
    customer_id: str | None = None,
) -> list[str]:
    """The document types ``stage`` requires that none of the given records holds (live).

    Args:
        session: any session (this reads only, unscoped: it is the system's check, not a listing).
        owner_kind: the kind of ``owner_record_ids`` (``application`` for a submission gate).
        owner_record_ids: the records whose documents count (usually one application).
        stage: the stage asked for.
        rules: required-document rules (``RequiredDocuments`` or mappings).
        customer_id: the customer of those records, whose own documents count too.
    """
    required = required_for(stage, rules)
    if not required:
        return []
    owners = [and_(Document.owner_kind == owner_kind, Document.owner_record_id.in_(list(owner_record_ids)))]
    if customer_id is not None:
        owners.append(and_(Document.owner_kind == "customer", Document.owner_record_id == customer_id))
    held = set(
        (
            await session.scalars(
                select(Document.doc_type)
                .where(or_(*owners), Document.doc_type.in_(required), Document.deleted_at.is_(None))
                .distinct()
            )
        ).all()
    )
    return [code for code in required if code not in held]


async def require_documents(
    session: AsyncSession,
    *,
    owner_kind: str,
    owner_record_ids: Sequence[str],
    stage: str,
    rules: Iterable[Rule] = DEFAULT_REQUIRED,
    customer_id: str | None = None,
) -> None:
    """Raise :class:`DocumentsMissing` (409) when ``missing_for`` finds anything missing."""
    missing = await missing_for(
        session,
        owner_kind=owner_kind,
        owner_record_ids=owner_record_ids,
        stage=stage,
        rules=rules,
        customer_id=customer_id,
    )
    if missing:
        raise DocumentsMissing(stage, missing)
