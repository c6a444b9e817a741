"""Who is asked at a stage, and who may decide: assignment, authority, maker-checker, delegation.

Assignment is fixed when a stage is entered (the pool is written on the task), so who was asked
is a fact of the record, not a query re-run later against changed roles. A person is a candidate
only when their own ``applications.decide`` scope reaches the application — a reviewer of
another branch is never asked.

The refusals here are the lender's controls (审贷分离, 分级授权):

* ``approvals.maker_checker`` (403): whoever created, owns or submitted the application never
  decides on it;
* ``approvals.already_decided`` (409): nobody decides twice on one application — one seat per
  person, across stages (a new round after a return lets the same person decide their stage
  again, never another one);
* ``approvals.related_party`` (403): staff linked to a customer (``staff_parties``) who is the
  borrower or tied to it in the customer graph, either direction, one step;
* ``approvals.above_authority`` (403): approving above one's limit on cumulative exposure.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from decimal import Decimal

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from core.access import Actor, Branch, Role, User, UserRole
from core.access.repository import user_actor
from core.applications.models import Application, ApplicationTransition
from core.applications.repository import visible
from core.errors import Conflict, Forbidden

from .context import related_customers
from .definition import Assignees
from .models import AuthorityLimit, Delegation, FlowDecision, FlowTask, StaffParty

__all__ = [
    "authority_of",
    "candidates",
    "check_may_decide",
    "delegators_of",
    "may_be_asked",
    "may_reach",
    "pick",
    "user_actor_of",
]

BRANCH_MANAGER_ROLE = "branch_manager"


async def may_reach(session: AsyncSession, user: User, application: Application) -> bool:
    """Whether ``user`` holds ``applications.decide`` in a scope that reaches ``application``."""
    if user.disabled_at is not None:
        return False
    actor = await user_actor(session, user)
    if not actor.can("applications.decide"):
        return False
    found = await session.scalar(
        visible(actor, "applications.decide")
        .with_only_columns(Application.id)
        .where(Application.id == application.id)
    )
    return found is not None


async def _role_members(session: AsyncSession, role: str) -> list[User]:
    rows = await session.scalars(
        select(User)
        .join(UserRole, UserRole.user_id == User.id)
        .join(Role, Role.id == UserRole.role_id)
        .where(Role.name == role, User.disabled_at.is_(None))
        .order_by(User.username)
    )
    return list(rows.all())


async def _branch_manager(session: AsyncSession, application: Application) -> list[User]:
    """The managers of the application's branch, else of the nearest branch above it that has one."""
    branch = await session.get(Branch, application.branch_id)
    managers = await _role_members(session, BRANCH_MANAGER_ROLE)
    while branch is not None:
        here = [user for user in managers if user.branch_id == branch.id]
        if here:
            return here
        branch = await session.get(Branch, branch.parent_id) if branch.parent_id else None
    return []


async def candidates(session: AsyncSession, application: Application, assignees: Assignees) -> list[User]:
    """The people ``assignees`` names who may decide on ``application``, by username."""
    if assignees.users:
        rows = await session.scalars(
            select(User).where(User.username.in_(assignees.users)).order_by(User.username)
        )
        people = list(rows.all())
    elif assignees.branch_manager:
        people = await _branch_manager(session, application)
    else:
        people = await _role_members(session, str(assignees.role))
    return [user for user in people if await may_reach(session, user, application)]


async def pick(
    session: AsyncSession, pool: Sequence[User], how: str, *, flow_key: str, stage: str
) -> User | None:
    """One of ``pool`` for a ``round_robin`` or ``least_loaded`` stage (``None`` for a queue)."""
    if not pool or how == "queue":
        return None
    if how == "least_loaded":
        counts = dict(
            (
                await session.execute(
                    select(FlowTask.assignee_id, func.count())
                    .where(FlowTask.assignee_id.in_([u.id for u in pool]), FlowTask.status == "open")
                    .group_by(FlowTask.assignee_id)
                )
            ).all()
        )
        return min(pool, key=lambda user: (counts.get(user.id, 0), user.username))
    # Round robin without a cursor row: the next username after the stage's last assignee.
    last = await session.scalar(
        select(User.username)
        .join(FlowTask, FlowTask.assignee_id == User.id)
        .where(FlowTask.flow_key == flow_key, FlowTask.stage == stage, FlowTask.escalation.is_(False))
        .order_by(FlowTask.created_at.desc(), FlowTask.id.desc())
        .limit(1)
    )
    return next((user for user in pool if last is None or user.username > last), pool[0])


async def authority_of(session: AsyncSession, user: User, product_code: str) -> Decimal | None:
    """The most ``user`` may approve of ``product_code``, on cumulative exposure; ``None``: no limit set.

    A user's own rows win over their roles'; within each, the product's row over the general
    one; among roles, the widest.
    """
    own = (
        await session.execute(
            select(AuthorityLimit.product_code, AuthorityLimit.max_exposure).where(
                AuthorityLimit.subject_kind == "user",
                AuthorityLimit.subject == user.username,
                AuthorityLimit.product_code.in_([product_code, ""]),
            )
        )
    ).all()
    if own:
        return max(own, key=lambda row: row[0] == product_code)[1]
    roles = list(
        (
            await session.scalars(
                select(Role.name)
                .join(UserRole, UserRole.role_id == Role.id)
                .where(UserRole.user_id == user.id)
            )
        ).all()
    )
    rows = (
        await session.execute(
            select(AuthorityLimit.subject, AuthorityLimit.product_code, AuthorityLimit.max_exposure).where(
                AuthorityLimit.subject_kind == "role",
                AuthorityLimit.subject.in_(roles),
                AuthorityLimit.product_code.in_([product_code, ""]),
            )
        )
    ).all()
    best: dict[str, tuple[bool, Decimal]] = {}
    for role, product, limit in rows:
        specific = product == product_code
        if role not in best or (specific and not best[role][0]):
            best[role] = (specific, limit)
    return max((limit for _, limit in best.values()), default=None)


async def delegators_of(session: AsyncSession, user_id: str, now: datetime) -> list[str]:
    """The users who delegated their decisions to ``user_id`` for a period covering ``now``."""
    rows = await session.scalars(
        select(Delegation.from_user_id).where(
            Delegation.to_user_id == user_id,
            Delegation.revoked_at.is_(None),
            Delegation.starts_at <= now,
            Delegation.ends_at > now,
        )
    )
    return list(rows.all())


async def _makers(session: AsyncSession, application: Application) -> set[str]:
    submitters = await session.scalars(
        select(ApplicationTransition.actor_id).where(
            ApplicationTransition.application_id == application.id,
            ApplicationTransition.to_status == "submitted",
            ApplicationTransition.actor_id.is_not(None),
        )
    )
    creator = await session.scalar(
        select(ApplicationTransition.actor_id).where(
            ApplicationTransition.application_id == application.id,
            ApplicationTransition.from_status.is_(None),
        )
    )
    return {application.owner_id, *(s for s in submitters.all() if s), *([creator] if creator else [])}


async def _related(session: AsyncSession, user_id: str, application: Application) -> bool:
    customer = await session.scalar(select(StaffParty.customer_id).where(StaffParty.user_id == user_id))
    if customer is None:
        return False
    return customer == application.customer_id or customer in await related_customers(
        session, application.customer_id
    )


async def check_may_decide(
    session: AsyncSession, application: Application, person_id: str, *, stage: str, round_: int
) -> None:
    """Refuse ``person_id`` deciding on ``application`` now: maker-checker, a second seat, a related party.

    Called for the person deciding and, for a delegate, for the person they stand in for too.
    """
    if person_id in await _makers(session, application):
        raise Forbidden("approvals.maker_checker", application=application.id)
    earlier = (
        await session.execute(
            select(FlowDecision.stage, FlowDecision.round).where(
                FlowDecision.application_id == application.id,
                (FlowDecision.decided_by_id == person_id) | (FlowDecision.on_behalf_of_id == person_id),
            )
        )
    ).all()
    if any(seen_stage != stage or seen_round == round_ for seen_stage, seen_round in earlier):
        raise Conflict("approvals.already_decided", application=application.id)
    if await _related(session, person_id, application):
        raise Forbidden("approvals.related_party", application=application.id)


async def may_be_asked(
    session: AsyncSession, application: Application, user: User, *, stage: str, round_: int
) -> bool:
    """Whether ``user`` could decide at ``stage`` now: makers, earlier deciders, related staff are not."""
    try:
        await check_may_decide(session, application, user.id, stage=stage, round_=round_)
    except (Forbidden, Conflict):
        return False
    return True


async def user_actor_of(session: AsyncSession, user_id: str) -> Actor | None:
    """The actor of user ``user_id`` (``None`` when there is no such user)."""
    user = await session.get(User, user_id)
    return await user_actor(session, user) if user is not None else None
