"""Admin API of partner subscriptions: ``/api/webhooks/subscriptions…``.

Create (the ``whsec_`` secret is in that answer only), list, get, update, rotate and retire a
secret, delete; a subscription's deliveries, a delivery's attempts, and a manual redelivery.
URLs are SSRF-checked on create and on change and refused with a 422 that says which address
was refused and why. Every error is problem+json.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Annotated, Any

from fastapi import APIRouter, Query, Response, status
from sqlalchemy.ext.asyncio import AsyncSession

from core import audit
from core.access import Actor
from core.audit import changed_fields
from core.db import utcnow
from core.webhooks_out import (
    DeliveryStatus,
    DuplicateSubscription,
    InvalidSubscription,
    SubscriptionError,
    WebhookDelivery,
    WebhookSubscription,
    create_subscription,
    delete_subscription,
    disable_subscription,
    enable_subscription,
    get_subscription,
    list_attempts,
    list_deliveries,
    list_subscriptions,
    redeliver,
    retire_previous_secret,
    rotate_secret,
    update_subscription,
)
from schemas.api.subscriptions import (
    AttemptRead,
    DeliveryRead,
    RedeliveryRead,
    SecretRotate,
    SecretRotated,
    SubscriptionCreate,
    SubscriptionCreated,
    SubscriptionRead,
    SubscriptionUpdate,
)

from ..api.paging import Limit
from ..api.problems import ProblemError
from ..api.security import require
from ..deps import RuntimeDep, SessionDep
from .ssrf import AllowList, TargetRefused, TargetUnresolvable, resolve_target

__all__ = ["check_target", "describe", "router"]

router = APIRouter(prefix="/api/webhooks/subscriptions", tags=["webhook subscriptions"])


def _problem(exc: SubscriptionError) -> ProblemError:
    if isinstance(exc, DuplicateSubscription):
        return ProblemError(409, "webhook-subscription-exists", "Webhook subscription exists", str(exc))
    if isinstance(exc, InvalidSubscription):
        return ProblemError(
            422,
            "invalid-webhook-subscription",
            "Invalid webhook subscription",
            str(exc),
            problems=exc.problems,
        )
    return ProblemError(404, "webhook-subscription-not-found", "Webhook subscription not found", str(exc))


async def check_target(url: str, allow_setting: str) -> None:
    """Refuse a URL the SSRF guard would refuse at delivery, as a 422 problem."""
    try:
        await resolve_target(url, AllowList.from_setting(allow_setting))
    except TargetRefused as exc:
        raise ProblemError(422, "webhook-target-refused", "Webhook target refused", str(exc)) from None
    except TargetUnresolvable as exc:
        raise ProblemError(
            422, "webhook-target-unresolvable", "Webhook target does not resolve", str(exc)
        ) from None


def describe(row: WebhookSubscription) -> SubscriptionRead:
    """The public view of a subscription (no secrets)."""
    expires = row.previous_secret_expires_at
    return SubscriptionRead.model_validate(
        {
            **{name: getattr(row, name) for name in SubscriptionRead.model_fields if hasattr(row, name)},
            "rotating": expires is not None and expires > utcnow(),
        }
    )


async def _audit(
    session: AsyncSession,
    actor: Actor,
    verb: str,
    row: WebhookSubscription,
    before: dict[str, Any] | None = None,
    after: dict[str, Any] | None = None,
) -> None:
    await audit.record(
        session,
        actor,
        f"subscriptions.{verb}",
        target_type="webhook_subscription",
        target_id=row.name,
        before=before,
        after=after,
    )


async def _subscription(session: AsyncSession, ref: str) -> WebhookSubscription:
    try:
        return await get_subscription(session, ref)
    except SubscriptionError as exc:
        raise _problem(exc) from None


async def _delivery(session: AsyncSession, row: WebhookSubscription, delivery_id: str) -> WebhookDelivery:
    delivery = await session.get(WebhookDelivery, delivery_id)
    if delivery is None or delivery.subscription_id != row.id:
        raise ProblemError(
            404,
            "webhook-delivery-not-found",
            "Webhook delivery not found",
            f"no delivery {delivery_id[:64]!r}",
        )
    return delivery


@router.post("", status_code=status.HTTP_201_CREATED)
async def create(
    body: SubscriptionCreate,
    runtime: RuntimeDep,
    session: SessionDep,
    actor: Actor = require("subscriptions.manage"),
) -> SubscriptionCreated:
    """Add a subscription; the answer holds its ``whsec_`` secret, which is never shown again."""
    await check_target(body.url, runtime.settings.outbound_allow_private_targets)
    try:
        row, secret = await create_subscription(
            session,
            runtime.box,
            name=body.name,
            url=body.url,
            event_types=body.event_types,
            enabled=body.enabled,
            description=body.description,
        )
    except SubscriptionError as exc:
        raise _problem(exc) from None
    described = describe(row)
    await _audit(session, actor, "create", row, after=described.model_dump())
    return SubscriptionCreated(**described.model_dump(), secret=secret)


@router.get("", dependencies=[require("subscriptions.read")])
async def list_all(session: SessionDep) -> list[SubscriptionRead]:
    """Every subscription, by name."""
    return [describe(row) for row in await list_subscriptions(session)]


@router.get("/{ref}", dependencies=[require("subscriptions.read")])
async def get_one(ref: str, session: SessionDep) -> SubscriptionRead:
    """One subscription by name or id."""
    return describe(await _subscription(session, ref))


@router.patch("/{ref}")
async def update(
    ref: str,
    body: SubscriptionUpdate,
    runtime: RuntimeDep,
    session: SessionDep,
    actor: Actor = require("subscriptions.manage"),
) -> SubscriptionRead:
    """Change URL, event types, description; enable, or disable with a reason."""
    row = await _subscription(session, ref)
    before = describe(row).model_dump()
    if body.url is not None and body.url != row.url:
        await check_target(body.url, runtime.settings.outbound_allow_private_targets)
    try:
        await update_subscription(
            session, row, url=body.url, event_types=body.event_types, description=body.description
        )
    except SubscriptionError as exc:
        raise _problem(exc) from None
    if body.enabled is True and not row.enabled:
        await enable_subscription(session, row)
    elif body.enabled is False:
        await disable_subscription(session, row, body.reason or "disabled by an operator")
    after = describe(row).model_dump()
    await _audit(session, actor, "update", row, *changed_fields(before, after))
    return describe(row)


@router.post("/{ref}/rotate-secret")
async def rotate(
    ref: str,
    runtime: RuntimeDep,
    session: SessionDep,
    body: SecretRotate | None = None,
    actor: Actor = require("subscriptions.manage"),
) -> SecretRotated:
    """A new secret; the previous one keeps signing for ``overlap_hours`` (default 24)."""
    row = await _subscription(session, ref)
    overlap = timedelta(hours=(body or SecretRotate()).overlap_hours)
    secret = await rotate_secret(session, runtime.box, row, overlap=overlap)
    await _audit(
        session, actor, "rotate_secret", row, after={"overlap_hours": overlap.total_seconds() / 3600}
    )
    return SecretRotated(
        name=row.name, secret=secret, previous_secret_expires_at=row.previous_secret_expires_at
    )


@router.post("/{ref}/retire-secret")
async def retire(
    ref: str, runtime: RuntimeDep, session: SessionDep, actor: Actor = require("subscriptions.manage")
) -> SubscriptionRead:
    """Stop signing with the previous secret now (the partner has switched)."""
    row = await _subscription(session, ref)
    await retire_previous_secret(session, runtime.box, row)
    await _audit(session, actor, "retire_secret", row)
    return describe(row)


@router.delete("/{ref}", status_code=status.HTTP_204_NO_CONTENT)
async def delete(ref: str, session: SessionDep, actor: Actor = require("subscriptions.manage")) -> Response:
    """Remove the subscription, its deliveries and their attempts."""
    row = await _subscription(session, ref)
    await _audit(session, actor, "delete", row, before=describe(row).model_dump())
    await delete_subscription(session, row)
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.get("/{ref}/deliveries", dependencies=[require("subscriptions.read")])
async def deliveries(
    ref: str,
    session: SessionDep,
    status_filter: Annotated[DeliveryStatus | None, Query(alias="status")] = None,
    limit: Limit = 50,
) -> list[DeliveryRead]:
    """The subscription's deliveries, newest first, optionally of one status."""
    row = await _subscription(session, ref)
    found = await list_deliveries(
        session, row.id, status=status_filter.value if status_filter else None, limit=limit
    )
    return [DeliveryRead.model_validate(d) for d in found]


@router.get("/{ref}/deliveries/{delivery_id}/attempts", dependencies=[require("subscriptions.read")])
async def attempts(ref: str, delivery_id: str, session: SessionDep) -> list[AttemptRead]:
    """Every attempt of one delivery, first first."""
    delivery = await _delivery(session, await _subscription(session, ref), delivery_id)
    return [AttemptRead.model_validate(a) for a in await list_attempts(session, delivery.id)]


@router.post("/{ref}/deliveries/{delivery_id}/redeliver", status_code=status.HTTP_202_ACCEPTED)
async def redeliver_one(
    ref: str, delivery_id: str, session: SessionDep, actor: Actor = require("subscriptions.manage")
) -> RedeliveryRead:
    """Queue one more attempt now, with the same ``webhook-id``; the subscription must be enabled."""
    row = await _subscription(session, ref)
    delivery = await _delivery(session, row, delivery_id)
    if not row.enabled:
        raise ProblemError(
            409,
            "webhook-subscription-disabled",
            "Webhook subscription disabled",
            f"enable {row.name!r} before redelivering to it",
        )
    job_id = await redeliver(session, delivery)
    await _audit(session, actor, "redeliver", row, after={"delivery_id": delivery.id})
    return RedeliveryRead(delivery_id=delivery.id, job_id=job_id, status=delivery.status)
