"""What every change of an application writes besides the row: its audit view and its history row.

Shared by the draft service and the transitions so both record the same things the same way.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm.exc import StaleDataError

from core.access import Actor
from core.errors import Conflict
from core.products.models import Product

from .models import Application, ApplicationTransition

__all__ = ["audit_view", "ensure_active", "history_row", "save"]


def audit_view(application: Application) -> dict[str, Any]:
    """What an audit entry keeps of an application: its terms and placement, the form's keys only.

    The form values stay out of the log: they are sealed in the row and the log is not.
    """
    return {
        "customer_id": application.customer_id,
        "product_id": application.product_id,
        "form_version_id": application.form_version_id,
        "amount": str(application.amount),
        "term_months": application.term_months,
        "repayment_method": application.repayment_method,
        "purpose": application.purpose,
        "values": sorted(application.values or {}),
        "channel": application.channel,
        "channel_partner": application.channel_partner,
        "lead_id": application.lead_id,
        "status": application.status,
        "owner_id": application.owner_id,
        "branch_id": application.branch_id,
    }


def ensure_active(product: Product) -> None:
    """Refuse (409) a deactivated product: it takes no new applications or submissions."""
    if not product.active:
        raise Conflict("products.inactive", product=product.code)


async def save(session: AsyncSession, application: Application, expected: int) -> None:
    """Write the application's changes; someone else's change since ``expected`` is a 409."""
    try:
        await session.flush()
    except StaleDataError:
        raise Conflict("applications.changed_meanwhile", read=expected) from None


def history_row(
    application: Application,
    actor: Actor,
    from_status: str | None,
    now: datetime,
    reason: str | None = None,
    reason_codes: Sequence[str] = (),
) -> ApplicationTransition:
    """The history row of the application's move from ``from_status`` to its current status."""
    return ApplicationTransition(
        application_id=application.id,
        from_status=from_status,
        to_status=application.status,
        actor=actor.audit_name,
        actor_id=actor.id,
        reason=reason,
        reason_codes=list(reason_codes),
        stage=application.stage,
        at=now,
    )
