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

from core.access import Actor, Branch, Role, Scope, User, UserRole
from core.access.repository import user_actor, widest_scopes
from core.applications.models import Application, ApplicationTransition
from core.applications.repository import reaches
from core.errors import Conflict, Forbidden

from .context import related_customers
from .definition import Assignees
from .models import AuthorityLimit, Delegation, FlowDecision, FlowTask, StaffParty

__all__ = [
    "askable",
    "authorities",
    "authority_of",
    "candidates",
    "check_may_decide",
    "delegators_of",
    "may_be_asked",
    "may_reach",
    "pick",
    "reaching",
    "user_actor_of",
]

BRANCH_MANAGER_ROLE = "branch_manager"


async def may_reach(session: AsyncSession, user: User, application: Application) -> bool:
    """Whether ``user`` holds ``applications.decide`` in a scope that reaches ``application``."""
    if user.disabled_at is not None:
        return False
    actor = await user_actor(session, user)
    return actor.can("applications.decide") and await reaches(
        session, actor, application.id, "applications.decide"
    )


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
    return await reaching(session, application, people)


async def reaching(session: AsyncSession, application: Application, people: Sequence[User]) -> list[User]:
    """Of ``people``, those whose ``applications.decide`` scope reaches ``application``: two queries.

    The same rule as ``core.access.scopes.scope_clause`` (the widest grant wins; own, team,
    branch subtree, all), evaluated for many people at once instead of one actor per person.
    """
    people = [user for user in people if user.disabled_at is None]
    if not people:
        return []
    widest = await widest_scopes(session, [user.id for user in people], "applications.decide")
    branch_ids = {application.branch_id, *(user.branch_id for user in people if user.branch_id)}
    paths = {
        branch_id: path
        for branch_id, path in await session.execute(
            select(Branch.id, Branch.path).where(Branch.id.in_(branch_ids))
        )
    }
    target = paths.get(application.branch_id, "\x00")

    def reaches(user: User) -> bool:
        scope = widest.get(user.id)
        if scope is None:
            return False
        if scope is Scope.ALL:
            return True
        if scope is Scope.OWN:
            return application.owner_id == user.id
        if user.branch_id is None:
            return False
        if scope is Scope.TEAM:
            return application.branch_id == user.branch_id
        return target.startswith(paths.get(user.branch_id, "\x00"))

    return [user for user in people if reaches(user)]


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
    key = ("flows.makers", application.id, application.submitted_at)  # only a submission adds one
    if key not in session.info:
        session.info[key] = await _read_makers(session, application)
    return set(session.info[key])


async def _read_makers(session: AsyncSession, application: Application) -> set[str]:
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


async def askable(
    session: AsyncSession, application: Application, people: Sequence[User], *, stage: str, round_: int
) -> list[User]:
    """Of ``people``, those :func:`check_may_decide` would let decide now, in four queries for all."""
    if not people:
        return []
    makers = await _makers(session, application)
    earlier = (
        await session.execute(
            select(
                FlowDecision.decided_by_id,
                FlowDecision.on_behalf_of_id,
                FlowDecision.stage,
                FlowDecision.round,
            ).where(FlowDecision.application_id == application.id)
        )
    ).all()
    seated = {
        person
        for by, behalf, seen_stage, seen_round in earlier
        if seen_stage != stage or seen_round == round_
        for person in (by, behalf)
        if person
    }
    staff = {
        user_id: customer
        for user_id, customer in await session.execute(
            select(StaffParty.user_id, StaffParty.customer_id).where(
                StaffParty.user_id.in_([u.id for u in people])
            )
        )
    }
    related = (
        {application.customer_id} | await related_customers(session, application.customer_id)
        if staff
        else set()
    )
    return [
        user
        for user in people
        if user.id not in makers and user.id not in seated and staff.get(user.id) not in related
    ]


async def authorities(
    session: AsyncSession, people: Sequence[User], product_code: str
) -> dict[str, Decimal | None]:
    """:func:`authority_of` for many people at once (three queries)."""
    rows = (
        await session.execute(
            select(
                AuthorityLimit.subject_kind,
                AuthorityLimit.subject,
                AuthorityLimit.product_code,
                AuthorityLimit.max_exposure,
            ).where(AuthorityLimit.product_code.in_([product_code, ""]))
        )
    ).all()
    if not rows or not people:
        return {user.id: None for user in people}
    roles: dict[str, set[str]] = {}
    for user_id, role in await session.execute(
        select(UserRole.user_id, Role.name)
        .join(Role, Role.id == UserRole.role_id)
        .where(UserRole.user_id.in_([user.id for user in people]))
    ):
        roles.setdefault(user_id, set()).add(role)

    def best(kind: str, subjects: set[str]) -> Decimal | None:
        chosen: dict[str, tuple[bool, Decimal]] = {}
        for row_kind, subject, product, limit in rows:
            if row_kind != kind or subject not in subjects:
                continue
            specific = product == product_code
            if subject not in chosen or (specific and not chosen[subject][0]):
                chosen[subject] = (specific, limit)
        return max((limit for _, limit in chosen.values()), default=None)

    out: dict[str, Decimal | None] = {}
    for user in people:
        own = best("user", {user.username})
        out[user.id] = own if own is not None else best("role", roles.get(user.id, set()))
    return out


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
