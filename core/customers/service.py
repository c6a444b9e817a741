"""Registering, changing and relating customers; every change audited with masked values.

Checks run over all fields before anything is written, so an officer sees every problem of a form
at once, and a refused request leaves nothing behind. Placement (owner and branch) must lie within
the caller's ``customers.write`` scope: an officer registers customers for themselves, a branch
manager for anyone in their subtree.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any

from sqlalchemy import insert, or_, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from core import audit
from core.access import Actor, Scope, User
from core.access.models import Branch
from core.access.repository import user_by_name
from core.db import new_id, utcnow
from core.errors import Conflict, DomainError, Invalid, NotFound

from .fields import CustomerFields, audit_view, check_fields, seal_values
from .models import Customer
from .repository import get_visible, visible

__all__ = ["CustomerFields", "audit_view", "possible_duplicates", "register", "register_many", "update"]


_PLACEMENTS = "lendhub.customers.placement"


def _owner_refused(owner: str) -> Invalid:
    """One answer for an unknown, disabled or out-of-scope owner: which, the caller need not learn."""
    code = "customers.owner_out_of_scope"
    return Invalid(code, errors=[{"field": "owner", "code": code}], owner=owner)


async def _placement(session: AsyncSession, actor: Actor, owner: str | None) -> tuple[str, str]:
    """The owner and branch a new customer gets, refused when outside the caller's write scope."""
    if owner is None:
        if actor.id is None or actor.branch_id is None or actor.kind.value != "user":
            raise Invalid(
                "customers.owner_required", errors=[{"field": "owner", "code": "customers.owner_required"}]
            )
        return actor.id, actor.branch_id
    # Remembered for the session (one request, one import batch): an import places thousands of
    # rows with the same few owners.
    cache: dict[tuple[str, str], tuple[str, str]] = session.info.setdefault(_PLACEMENTS, {})
    if (actor.audit_name, owner) in cache:
        return cache[(actor.audit_name, owner)]
    try:
        user: User = await user_by_name(session, owner)
    except NotFound:
        raise _owner_refused(owner) from None
    branch = await session.get(Branch, user.branch_id) if user.branch_id else None
    scope = actor.scope_for("customers.write")
    allowed = (
        scope is Scope.ALL
        or (scope is Scope.OWN and user.id == actor.id)
        or (scope is Scope.TEAM and user.branch_id == actor.branch_id)
        or (
            scope is Scope.BRANCH
            and branch is not None
            and actor.branch_path is not None
            and branch.path.startswith(actor.branch_path)
        )
    )
    if not allowed or branch is None or user.disabled_at is not None:
        raise _owner_refused(owner)
    cache[(actor.audit_name, owner)] = (user.id, branch.id)
    return user.id, branch.id


def _identity_key(columns: dict[str, Any]) -> tuple[str, str] | None:
    """What makes a customer unique: a person's ID number (by its index) or an enterprise's USCC."""
    if columns.get("id_number_index"):
        return ("id_number", columns["id_number_index"])
    if columns.get("uscc"):
        return ("uscc", columns["uscc"])
    return None


async def _existing(
    session: AsyncSession, actor: Actor, keys: list[tuple[str, str]], exclude: str | None = None
) -> dict[tuple[str, str], tuple[str, bool]]:
    """Active customers holding any of ``keys``: key → (id, whether the caller may see it)."""
    indexes = [value for kind, value in keys if kind == "id_number"]
    usccs = [value for kind, value in keys if kind == "uscc"]
    if not indexes and not usccs:
        return {}
    statement = select(Customer.id, Customer.id_number_index, Customer.uscc).where(
        Customer.status == "active", or_(Customer.id_number_index.in_(indexes), Customer.uscc.in_(usccs))
    )
    if exclude:
        statement = statement.where(Customer.id != exclude)
    found = (await session.execute(statement)).all()
    if not found:
        return {}
    ids = [row.id for row in found]
    seen = set(
        (
            await session.scalars(visible(actor).with_only_columns(Customer.id).where(Customer.id.in_(ids)))
        ).all()
    )
    result: dict[tuple[str, str], tuple[str, bool]] = {}
    for row in found:
        key = ("id_number", row.id_number_index) if row.id_number_index else ("uscc", row.uscc)
        result[key] = (row.id, row.id in seen)
    return result


def _duplicate(key: tuple[str, str], existing_id: str | None, seen: bool) -> Conflict:
    code = "customers.duplicate" if seen else "customers.duplicate_elsewhere"
    return Conflict(code, errors=[{"field": key[0], "code": code}], existing_id=existing_id if seen else "-")


async def possible_duplicates(session: AsyncSession, actor: Actor, customer: Customer) -> list[str]:
    """Other active customers the caller can see who share this one's mobile or bank card."""
    conditions = [
        column == value
        for column, value in (
            (Customer.mobile_index, customer.mobile_index),
            (Customer.bank_card_index, customer.bank_card_index),
        )
        if value
    ]
    if not conditions:
        return []
    statement = (
        visible(actor)
        .with_only_columns(Customer.id)
        .where(or_(*conditions), Customer.status == "active", Customer.id != customer.id)
        .order_by(Customer.created_at)
        .limit(20)
    )
    return list((await session.scalars(statement)).all())


@dataclass
class _Prepared:
    position: int
    columns: dict[str, Any]


async def _prepare(
    session: AsyncSession, actor: Actor, fields: CustomerFields, position: int, today: date
) -> _Prepared:
    kind = fields.kind or ""
    checked = check_fields(fields, kind, today=today, creating=True)
    if checked.errors:
        raise Invalid("customers.invalid", errors=checked.errors, count=len(checked.errors))
    owner_id, branch_id = await _placement(session, actor, fields.owner)
    now = utcnow()
    columns = {
        "id": new_id(),
        "kind": kind,
        "owner_id": owner_id,
        "branch_id": branch_id,
        "channel": "offline",
        "status": "active",
        "tags": [],
        "profile": {},
        "version": 1,
        "created_at": now,
        "updated_at": now,
        **seal_values(checked.values),
    }
    return _Prepared(position, columns)


async def _insert(
    session: AsyncSession, rows: list[_Prepared], results: list[str | DomainError]
) -> list[_Prepared]:
    """Insert the rows in one statement; if a concurrent writer took one's identity, one by one."""
    try:
        async with session.begin_nested():
            await session.execute(insert(Customer), [row.columns for row in rows])
        return rows
    except IntegrityError:
        pass
    inserted = []
    for row in rows:
        try:
            async with session.begin_nested():
                await session.execute(insert(Customer), [row.columns])
            inserted.append(row)
        except IntegrityError:  # a concurrent registration of the same customer won the unique index
            key = _identity_key(row.columns) or ("id_number", "")
            results[row.position] = _duplicate(key, None, False)
    return inserted


async def register_many(
    session: AsyncSession, actor: Actor, batch: Sequence[CustomerFields], *, today: date
) -> list[str | DomainError]:
    """Register each of ``batch``: per entry, the new customer's id or why it was refused.

    The same checks, placement rules and duplicate refusal as one at a time, in a few statements
    for the whole batch (one lookup of existing identities, one insert); a second entry with the
    identity of an earlier one in the batch is refused as a duplicate of it. Each customer gets its
    audit entry. Nothing of a refused entry is written.
    """
    results: list[str | DomainError] = ["" for _ in batch]
    prepared: list[_Prepared] = []
    for position, fields in enumerate(batch):
        try:
            prepared.append(await _prepare(session, actor, fields, position, today))
        except DomainError as exc:
            results[position] = exc
    keys = [key for row in prepared if (key := _identity_key(row.columns))]
    existing = await _existing(session, actor, keys)
    first_in_batch: dict[tuple[str, str], int] = {}
    accepted: list[_Prepared] = []
    for row in prepared:
        key = _identity_key(row.columns)
        if key in existing:
            customer_id, seen = existing[key]
            results[row.position] = _duplicate(key, customer_id, seen)
        elif key is not None and key in first_in_batch:
            results[row.position] = (
                _duplicate(key, first_in_batch[key], True)
                if False
                else Conflict(
                    "customers.duplicate_in_batch",
                    errors=[{"field": key[0], "code": "customers.duplicate_in_batch"}],
                    position=first_in_batch[key] + 1,
                )
            )
        else:
            if key is not None:
                first_in_batch[key] = row.position
            accepted.append(row)
    inserted = await _insert(session, accepted, results) if accepted else []
    for row in inserted:
        results[row.position] = row.columns["id"]
        await audit.record(
            session,
            actor,
            "customers.create",
            target_type="customer",
            target_id=row.columns["id"],
            after=audit_view(_View(row.columns)),
        )
    return results


class _View:
    """Attribute access to a row's columns, for ``audit_view``."""

    def __init__(self, columns: dict[str, Any]) -> None:
        self.__dict__.update(columns)

    def __getattr__(self, name: str) -> Any:
        return None


async def register(session: AsyncSession, actor: Actor, fields: CustomerFields, *, today: date) -> Customer:
    """A new customer, once every field passes and no active customer has the same ID or USCC."""
    (result,) = await register_many(session, actor, [fields], today=today)
    if isinstance(result, DomainError):
        raise result
    return await session.get_one(Customer, result)


async def update(
    session: AsyncSession,
    actor: Actor,
    customer_id: str,
    fields: CustomerFields,
    *,
    today: date,
    expected_version: int | None = None,
) -> Customer:
    """The customer with ``fields`` changed; refused when it changed since ``expected_version``."""
    customer = await get_visible(session, actor, customer_id, "customers.write")
    if customer.status != "active":
        raise Conflict("customers.merged", into=customer.merged_into_id)
    if expected_version is not None and expected_version != customer.version:
        raise Conflict("customers.stale", expected=expected_version, current=customer.version)
    if fields.kind is not None and fields.kind != customer.kind:
        raise Invalid(
            "customers.invalid", errors=[{"field": "kind", "code": "customers.kind_fixed"}], count=1
        )
    checked = check_fields(fields, customer.kind, today=today, creating=False)
    if checked.errors:
        raise Invalid("customers.invalid", errors=checked.errors, count=len(checked.errors))
    before = audit_view(customer)
    if fields.owner is not None:
        customer.owner_id, customer.branch_id = await _placement(session, actor, fields.owner)
    columns = seal_values(checked.values)
    key = _identity_key(columns)
    if key is not None and (clash := (await _existing(session, actor, [key], exclude=customer.id)).get(key)):
        raise _duplicate(key, *clash)
    for name, value in columns.items():
        setattr(customer, name, value)
    customer.version += 1
    customer.segments_at = None  # derived memberships are judged again
    await session.flush()
    changed_before, changed_after = audit.changed_fields(before, audit_view(customer))
    await audit.record(
        session,
        actor,
        "customers.update",
        target_type="customer",
        target_id=customer.id,
        before=changed_before,
        after=changed_after,
    )
    return customer
