"""Lead assignment rules, kept as data and read top to bottom.

Two kinds of rule *route* a lead to a branch — ``by_branch`` (leads of a channel, partner, campaign
or branch go to ``to_branch``) and ``by_product`` (leads for a product go to ``to_branch``) — and two
*deal* it to an officer of the branch it is in — ``round_robin`` (the next officer after the one
dealt to last) and ``least_loaded`` (the officer with the fewest open leads). Each rule's conditions
(channel, partner, campaign, product, the branch the lead is in at that point) are optional and
combined with AND. Reading in order, the first routing rule that matches picks the branch (later
routing rules are skipped), and the first dealing rule that matches and has an officer available
picks the officer and ends the reading. A lead no rule deals waits in its branch's queue.

A branch's officers are its enabled users whose roles give ``leads.write`` at ``own`` scope —
loan officers; managers, who see the whole branch, are not dealt leads — unless the rule names
its own ``officers``. Round-robin takes a lock on its rule row (an ``UPDATE`` first, as the audit
chain does), so concurrent deals do not hand two leads to the same officer in turn;
least-loaded counts committed open leads, so two deals at the same instant may pick the same
officer, which evens out at the next deal.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import delete, func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from core import audit
from core.access import Actor, Branch, User
from core.access.repository import user_actor, widest_scopes
from core.access.scopes import Scope
from core.errors import Forbidden, Invalid

from .models import OPEN_STATUSES, AssignmentRule, Lead, Partner, RuleKind

__all__ = ["RuleSpec", "branch_officers", "deal", "officer_placement", "read_rules", "replace_rules"]

MAX_RULES = 100


@dataclass(frozen=True)
class RuleSpec:
    """One rule as a caller writes it: codes and usernames, not ids."""

    kind: str
    channel: str | None = None
    partner: str | None = None
    campaign: str | None = None
    product_code: str | None = None
    branch: str | None = None
    to_branch: str | None = None
    officers: tuple[str, ...] = ()


def _matches(rule: AssignmentRule, lead: Lead, branch_id: str) -> bool:
    return all(
        wanted is None or wanted == actual
        for wanted, actual in (
            (rule.channel, lead.channel),
            (rule.partner_id, lead.partner_id),
            (rule.campaign, lead.campaign),
            (rule.product_code, lead.product_code),
            (rule.branch_id, branch_id),
        )
    )


async def branch_officers(session: AsyncSession, branch_id: str) -> list[User]:
    """The branch node's enabled users holding ``leads.write`` at ``own`` scope, by username."""
    users = (
        await session.scalars(
            select(User)
            .where(User.branch_id == branch_id, User.disabled_at.is_(None))
            .order_by(User.username)
        )
    ).all()
    if not users:
        return []
    widest = await widest_scopes(session, [u.id for u in users], "leads.write")
    return [u for u in users if widest.get(u.id) is Scope.OWN]


async def _named_officers(session: AsyncSession, usernames: Sequence[str]) -> list[User]:
    rows = await session.scalars(
        select(User)
        .where(User.username.in_(list(usernames)), User.disabled_at.is_(None))
        .order_by(User.username)
    )
    return list(rows.all())


async def _round_robin(session: AsyncSession, rule: AssignmentRule, pool: list[User]) -> User:
    # Touch the row first: a row lock on PostgreSQL, the write lock on SQLite, then read the cursor.
    await session.execute(
        update(AssignmentRule).where(AssignmentRule.id == rule.id).values(cursor=AssignmentRule.cursor)
    )
    last = await session.scalar(
        select(AssignmentRule.cursor)
        .where(AssignmentRule.id == rule.id)
        .execution_options(populate_existing=True)
    )
    chosen = next((u for u in pool if last is None or u.username > last), pool[0])
    await session.execute(
        update(AssignmentRule).where(AssignmentRule.id == rule.id).values(cursor=chosen.username)
    )
    return chosen


async def _least_loaded(session: AsyncSession, pool: list[User]) -> User:
    counts = dict(
        (
            await session.execute(
                select(Lead.owner_id, func.count())
                .where(Lead.owner_id.in_([u.id for u in pool]), Lead.status.in_(OPEN_STATUSES))
                .group_by(Lead.owner_id)
            )
        ).all()
    )
    return min(pool, key=lambda u: (counts.get(u.id, 0), u.username))


async def deal(session: AsyncSession, lead: Lead, *, start_branch_id: str) -> tuple[str, User | None]:
    """Read the rules for ``lead`` (starting in ``start_branch_id``): its branch and officer, if any.

    Sets nothing on the lead except ``assignment_rule_id`` (the rule that decided); the caller
    places it, so the SLA clock and the audit entry go with the placement.
    """
    rules = (await session.scalars(select(AssignmentRule).order_by(AssignmentRule.position))).all()
    branch_id, routed = start_branch_id, False
    lead.assignment_rule_id = None
    for rule in rules:
        kind = RuleKind(rule.kind)
        if not _matches(rule, lead, branch_id):
            continue
        if kind.routes:
            if not routed and rule.to_branch_id:
                branch_id, routed = rule.to_branch_id, True
                lead.assignment_rule_id = rule.id
            continue
        pool = (
            await _named_officers(session, rule.officers)
            if rule.officers
            else await branch_officers(session, branch_id)
        )
        if not pool:
            continue
        chosen = (
            await _round_robin(session, rule, pool)
            if kind is RuleKind.ROUND_ROBIN
            else await _least_loaded(session, pool)
        )
        lead.assignment_rule_id = rule.id
        return chosen.branch_id or branch_id, chosen
    return branch_id, None


async def officer_placement(
    session: AsyncSession, actor: Actor, username: str | None, permission: str = "leads.write"
) -> User:
    """The officer a lead is given to: the caller by default, else one within the caller's scope.

    Refused alike (403) when the named user does not exist, is disabled, has no branch or lies
    outside the caller's ``permission`` scope, so the answer does not reveal which users exist;
    a user who may not work leads at all is a 422.
    """
    if username is None:
        user = await session.get(User, actor.id) if actor.kind.value == "user" and actor.id else None
        if user is None or user.branch_id is None:
            raise Invalid("leads.owner_required", errors=[{"field": "owner", "code": "leads.owner_required"}])
        return user
    user = await session.scalar(select(User).where(User.username == username.strip().lower()))
    branch = await session.get(Branch, user.branch_id) if user is not None and user.branch_id else None
    scope = actor.scope_for(permission)
    allowed = (
        user is not None
        and branch is not None
        and user.disabled_at is None
        and (
            scope is Scope.ALL
            or (scope is Scope.OWN and user.id == actor.id)
            or (scope is Scope.TEAM and user.branch_id == actor.branch_id)
            or (
                scope is Scope.BRANCH
                and actor.branch_path is not None
                and branch.path.startswith(actor.branch_path)
            )
        )
    )
    if not allowed or user is None:
        raise Forbidden("leads.owner_out_of_scope", owner=username)
    if not (await user_actor(session, user)).can("leads.write"):
        raise Invalid(
            "leads.owner_cannot_work",
            errors=[{"field": "owner", "code": "leads.owner_cannot_work"}],
            owner=username,
        )
    return user


def _rule_error(index: int, name: str, code: str, **params: Any) -> dict[str, Any]:
    return {"field": f"rules.{index}.{name}", "code": code, "params": params}


async def replace_rules(
    session: AsyncSession, actor: Actor, specs: Sequence[RuleSpec]
) -> list[AssignmentRule]:
    """Replace the whole ordered list of rules (checked first, all or nothing), audited."""
    if len(specs) > MAX_RULES:
        raise Invalid("leads.rules_invalid", errors=[_rule_error(0, "kind", "leads.too_many_rules")], count=1)
    branches = dict((await session.execute(select(Branch.code, Branch.id))).all())
    partners = dict((await session.execute(select(Partner.code, Partner.id))).all())
    usernames = set((await session.scalars(select(User.username))).all())
    errors: list[dict[str, Any]] = []
    rows: list[AssignmentRule] = []
    for index, spec in enumerate(specs):
        try:
            kind = RuleKind(spec.kind)
        except ValueError:
            errors.append(
                _rule_error(
                    index, "kind", "leads.rule_kind_unknown", known=", ".join(k.value for k in RuleKind)
                )
            )
            continue
        for name, code, table in (("branch", spec.branch, branches), ("to_branch", spec.to_branch, branches)):
            if code is not None and code not in table:
                errors.append(_rule_error(index, name, "leads.branch_unknown", branch=code))
        if spec.partner is not None and spec.partner not in partners:
            errors.append(_rule_error(index, "partner", "leads.partner_unknown", partner=spec.partner))
        if kind.routes and spec.to_branch is None:
            errors.append(_rule_error(index, "to_branch", "leads.rule_needs_to_branch", kind=kind.value))
        if not kind.routes and (spec.to_branch is not None):
            errors.append(_rule_error(index, "to_branch", "leads.rule_deals_in_place", kind=kind.value))
        if kind is RuleKind.BY_PRODUCT and not spec.product_code:
            errors.append(_rule_error(index, "product_code", "leads.rule_needs_product"))
        if kind.routes and spec.officers:
            errors.append(_rule_error(index, "officers", "leads.rule_officers_for_dealing"))
        for name in spec.officers:
            if name not in usernames:
                errors.append(_rule_error(index, "officers", "leads.officer_unknown", officer=name))
        rows.append(
            AssignmentRule(
                position=index,
                kind=kind.value,
                channel=spec.channel,
                partner_id=partners.get(spec.partner) if spec.partner else None,
                campaign=spec.campaign,
                product_code=spec.product_code,
                branch_id=branches.get(spec.branch) if spec.branch else None,
                to_branch_id=branches.get(spec.to_branch) if spec.to_branch else None,
                officers=sorted(set(spec.officers)),
            )
        )
    if errors:
        raise Invalid("leads.rules_invalid", errors=errors, count=len(errors))
    before = await read_rules(session)
    await session.execute(delete(AssignmentRule))
    session.add_all(rows)
    await session.flush()
    await audit.record(
        session,
        actor,
        "leads.rules_replace",
        target_type="lead_rules",
        target_id="assignment",
        before={"rules": before},
        after={"rules": await read_rules(session)},
    )
    return rows


async def read_rules(session: AsyncSession) -> list[dict[str, Any]]:
    """The rules in order, with codes and usernames (what ``replace_rules`` takes, and a cursor)."""
    rules = (await session.scalars(select(AssignmentRule).order_by(AssignmentRule.position))).all()
    branches = {v: k for k, v in (await session.execute(select(Branch.code, Branch.id))).all()}
    partners = {v: k for k, v in (await session.execute(select(Partner.code, Partner.id))).all()}
    return [
        {
            "kind": r.kind,
            "channel": r.channel,
            "partner": partners.get(r.partner_id) if r.partner_id else None,
            "campaign": r.campaign,
            "product_code": r.product_code,
            "branch": branches.get(r.branch_id) if r.branch_id else None,
            "to_branch": branches.get(r.to_branch_id) if r.to_branch_id else None,
            "officers": list(r.officers or []),
            "last_dealt_to": r.cursor,
        }
        for r in rules
    ]
