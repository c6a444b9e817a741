"""Moving applications between statuses: the one door every status change goes through.

``transition`` is called by the routes, ``submit``, the expiry job and, next, the approval
engine. It checks the state table (a refused move names the allowed ones), the caller's
permission for the move in the application's scope, the reason a move needs, the product's terms
and the kept form (before ``submitted``) and the product's gates of the target state; then it
writes one history row, one audit entry and, for a submission or a decision, an outbox event.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from core import audit
from core.access import Actor, ActorKind
from core.db import utcnow
from core.errors import Conflict, Forbidden, Invalid
from core.outbox import add_event
from core.products.models import Product
from core.products.repository import product_by_id

from .config import expiry_from, gates_before
from .forms import check_form
from .gates import GateRegistry
from .models import Application
from .records import ensure_active, history_row, save
from .repository import get_visible, reaches
from .states import OPEN_FOR_CHANGES, TRANSITIONS, ApplicationStatus, allowed_from, move_to

__all__ = ["MAX_REASON", "MAX_REASON_CODES", "REASON_CODE", "change_status", "submit", "transition"]

MAX_REASON = 500
MAX_REASON_CODES = 10
REASON_CODE = re.compile(r"^[a-z][a-z0-9_.-]{0,49}$")
_SUBMITTED_EVENT = "application_submitted"
_DECIDED_EVENT = "application_decided"
S = ApplicationStatus
#: The review moves an approval flow makes; by hand only for products without a flow.
_FLOW_MOVES = frozenset({S.IN_REVIEW, S.APPROVED, S.REJECTED, S.RETURNED})


def _move_errors(
    to: str, reason: str | None, reason_codes: Sequence[str], *, reason_required: bool, codes_required: bool
) -> list[dict[str, Any]]:
    errors: list[dict[str, Any]] = []
    text = (reason or "").strip()
    if reason_required and not text:
        errors.append({"field": "reason", "code": "applications.reason_required", "params": {"to": to}})
    if len(text) > MAX_REASON:
        errors.append(
            {"field": "reason", "code": "applications.reason_too_long", "params": {"max": MAX_REASON}}
        )
    if codes_required and not reason_codes:
        errors.append(
            {"field": "reason_codes", "code": "applications.reason_codes_required", "params": {"to": to}}
        )
    if len(reason_codes) > MAX_REASON_CODES or len(set(reason_codes)) != len(reason_codes):
        errors.append(
            {
                "field": "reason_codes",
                "code": "applications.reason_codes_invalid",
                "params": {"max": MAX_REASON_CODES},
            }
        )
    errors += [
        {"field": f"reason_codes.{index}", "code": "applications.reason_code_format"}
        for index, code in enumerate(reason_codes)
        if not isinstance(code, str) or not REASON_CODE.match(code)
    ]
    return errors


async def _check_permission(
    session: AsyncSession, actor: Actor, application: Application, permission: str | None
) -> None:
    if permission is None:  # LendHub's own move: the expiry job, or the operator at the console
        if actor.kind not in (ActorKind.SYSTEM, ActorKind.OPERATOR):
            raise Forbidden("applications.system_only", to=application.status)
        return
    if not actor.can(permission):
        raise Forbidden("auth.forbidden", permission=permission)
    if not await reaches(session, actor, application.id, permission):
        raise Forbidden("applications.out_of_scope", permission=permission)


def _refused(application: Application, to: str) -> Conflict:
    allowed = list(allowed_from(application.status))
    return Conflict(
        "applications.transition_refused",
        errors=[
            {
                "field": "to",
                "code": "applications.transition_refused",
                "params": {"allowed": ", ".join(allowed) or "-"},
            }
        ],
        members={"current": application.status, "allowed": allowed},
        current=application.status,
        to=to,
        allowed=", ".join(allowed) or "-",
    )


async def transition(
    session: AsyncSession,
    actor: Actor,
    application: Application,
    to: str,
    reason: str | None = None,
    reason_codes: Sequence[str] = (),
    *,
    gates: GateRegistry,
    authorised: bool = False,
) -> Application:
    """Move ``application`` to status ``to``: the single door of every status change.

    Checks, in order: ``to`` is a status (422 ``applications.status_unknown``); the table allows
    it from the current status (409 ``applications.transition_refused``, ``allowed`` naming the
    moves there are); the caller holds the move's permission in the application's scope (403);
    the reason or reason codes the move needs (422); before ``submitted``, the product still
    offers the terms and the form values pass the kept form version (422); the product's gates
    of ``to`` (409 ``applications.gates_unmet`` with ``unmet``). Then one history row, one audit
    entry and, for a submission or a decision, an outbox event.

    Args:
        session: the transaction.
        actor: who moves it.
        application: the application, loaded by the caller in its read scope.
        to: the target status.
        reason: why (required to return it or to undo an approval).
        reason_codes: grounds as short codes (required to reject), for KPIs.
        gates: the gate kinds of this process (``hub.crm.APPLICATION_GATES``).
        authorised: the approval engine has authorised the move by the flow's own rules (the
            decider's seat, authority, maker-checker); the permission check is skipped. A
            review move of an application whose product follows a flow is refused
            (``applications.flow_governed``) unless authorised: the flow is the only way.
    """
    if to not in TRANSITIONS:
        raise Invalid(
            "applications.status_unknown",
            errors=[
                {
                    "field": "to",
                    "code": "applications.status_unknown",
                    "params": {"known": ", ".join(TRANSITIONS)},
                }
            ],
            status=to[:30],
        )
    if to not in allowed_from(application.status):
        raise _refused(application, to)
    move = move_to(application.status, to)
    if not authorised:
        await _check_permission(session, actor, application, move.permission)
    errors = _move_errors(
        to, reason, reason_codes, reason_required=move.reason_required, codes_required=move.codes_required
    )
    if errors:
        raise Invalid("applications.transition_invalid", errors=errors, to=to)
    product = await product_by_id(session, application.product_id)
    if not authorised and to in _FLOW_MOVES and (application.flow_key or product.flow_key):
        flow = application.flow_key or product.flow_key or "-"
        raise Conflict("applications.flow_governed", flow=flow, to=to)
    if to == S.SUBMITTED:
        ensure_active(product)
        await check_form(session, application, product)
    unmet, unmet_errors = await gates.unmet(session, application, await gates_before(session, product.id, to))
    if unmet:
        raise Conflict(
            "applications.gates_unmet",
            errors=unmet_errors,
            members={"unmet": [item.as_json() for item in unmet]},
            to=to,
            gates=", ".join(item.gate for item in unmet),
        )
    return await _apply(
        session, actor, application, to, (reason or "").strip() or None, reason_codes, product
    )


async def _apply(
    session: AsyncSession,
    actor: Actor,
    application: Application,
    to: str,
    reason: str | None,
    reason_codes: Sequence[str],
    product: Product,
) -> Application:
    now = utcnow()
    current, version = application.status, application.version
    # Read before any attribute changes: a query would autoflush them as an UPDATE of their own.
    expires = await expiry_from(session, now) if to in OPEN_FOR_CHANGES else None
    application.status = to
    if to == S.SUBMITTED:
        application.submitted_at = now
    if to in (S.APPROVED, S.REJECTED):
        application.decided_at = now
    elif current == S.APPROVED and to == S.IN_REVIEW:
        application.decided_at = None  # the approval was undone
    application.expires_at = expires
    await save(session, application, version)
    session.add(history_row(application, actor, current, now, reason, reason_codes))
    await audit.record(
        session,
        actor,
        "applications.transition",
        target_type="application",
        target_id=application.id,
        before={"status": current},
        after={
            "status": to,
            "reason": reason,
            "reason_codes": list(reason_codes),
            "stage": application.stage,
        },
    )
    if to == S.SUBMITTED:
        await add_event(
            session,
            event_type=_SUBMITTED_EVENT,
            subject_type="application",
            subject_id=application.id,
            payload={
                "application_id": application.id,
                "customer_id": application.customer_id,
                "product": product.code,
                "amount": str(application.amount),
                "term_months": application.term_months,
                "channel": application.channel,
                "channel_partner": application.channel_partner,
                "lead_id": application.lead_id,
                "resubmitted": current == S.RETURNED,
            },
        )
    elif to in (S.APPROVED, S.REJECTED):
        await add_event(
            session,
            event_type=_DECIDED_EVENT,
            subject_type="application",
            subject_id=application.id,
            payload={
                "application_id": application.id,
                "decision": "approved" if to == S.APPROVED else "declined",
                "reasons": list(reason_codes),
                "approved_amount": str(application.amount) if to == S.APPROVED else None,
                "channel": application.channel,
            },
        )
    return application


async def change_status(
    session: AsyncSession,
    actor: Actor,
    application_id: str,
    to: str,
    reason: str | None = None,
    reason_codes: Sequence[str] = (),
    *,
    gates: GateRegistry,
    expected_version: int | None = None,
) -> Application:
    """``transition`` of an application the caller can read; refused if it changed since ``expected_version``.

    The route of every move but submission uses it; the move's own permission is checked by ``transition``.
    """
    application = await get_visible(session, actor, application_id, for_update=True)
    if expected_version is not None and expected_version != application.version:
        raise Conflict("applications.stale", expected=expected_version, current=application.version)
    return await transition(session, actor, application, to, reason, reason_codes, gates=gates)


async def submit(
    session: AsyncSession,
    actor: Actor,
    application_id: str,
    *,
    gates: GateRegistry,
    expected_version: int | None = None,
) -> Application:
    """Submit a draft (or resubmit a returned application): the form is checked, then the gates."""
    application = await get_visible(session, actor, application_id, "applications.write", for_update=True)
    if expected_version is not None and expected_version != application.version:
        raise Conflict("applications.stale", expected=expected_version, current=application.version)
    return await transition(session, actor, application, S.SUBMITTED, gates=gates)
