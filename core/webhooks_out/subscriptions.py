"""Partner subscriptions: event-type patterns, sealed ``whsec_`` secrets, rotation, enable/disable.

Event-type patterns (what a subscription's ``event_types`` may hold):

* ``*`` — every event;
* an exact type, ``loan_disbursed`` or ``loan.disbursed`` (segments of ``[A-Za-z0-9_]``
  separated by ``.``);
* a prefix ending in ``*``, ``loan.*`` or ``application_*`` — every type that starts with what
  comes before the ``*``. Only one ``*``, only at the end.

Secrets follow Standard Webhooks: ``whsec_`` + base64 of 32 random bytes, sealed with the hub's
:class:`~core.secretbox.SecretBox`, returned in clear only once (at creation or rotation).
During a rotation both secrets sign every request (space-separated signatures), so the partner
can switch at leisure; the previous one stops signing at ``previous_secret_expires_at`` or when
retired. Services never commit; the caller owns the transaction.
"""

from __future__ import annotations

import base64
import re
import secrets
from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Literal

from sqlalchemy import or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from core.db import new_id, utcnow
from core.outbox import add_event
from core.secretbox import SecretBox
from schemas.events import SubscriptionDisabled

from .models import WebhookSubscription

__all__ = [
    "SUBSCRIPTION_DISABLED_EVENT",
    "DuplicateSubscription",
    "InvalidSubscription",
    "SubscriptionError",
    "SubscriptionNotFound",
    "active_secrets",
    "create_subscription",
    "delete_subscription",
    "disable_subscription",
    "enable_subscription",
    "generate_secret",
    "get_subscription",
    "list_subscriptions",
    "matches",
    "retire_previous_secret",
    "rotate_secret",
    "update_subscription",
    "validate_patterns",
]

SUBSCRIPTION_DISABLED_EVENT = "webhook_subscription_disabled"
DEFAULT_ROTATION_OVERLAP = timedelta(hours=24)

_TYPE = r"[A-Za-z0-9_]+(?:\.[A-Za-z0-9_]+)*"
_PATTERN = re.compile(rf"^(?:\*|{_TYPE}|{_TYPE}[._]?\*)$")
_NAME = re.compile(r"^[a-z][a-z0-9]*(?:[-_][a-z0-9]+)*$")


class SubscriptionError(Exception):
    """Base of the subscription errors; messages never contain a secret."""


class SubscriptionNotFound(SubscriptionError):
    """No subscription with that name or id."""


class DuplicateSubscription(SubscriptionError):
    """The name is taken."""


class InvalidSubscription(SubscriptionError):
    """A name, URL or event-type pattern is malformed; ``problems`` lists each."""

    def __init__(self, message: str, problems: list[str] | None = None) -> None:
        super().__init__(message if not problems else f"{message}: " + "; ".join(problems))
        self.problems = problems or []


def generate_secret() -> str:
    """A new Standard Webhooks secret: ``whsec_`` + base64 of 32 random bytes."""
    return "whsec_" + base64.b64encode(secrets.token_bytes(32)).decode("ascii")


def validate_patterns(patterns: Sequence[str]) -> list[str]:
    """The patterns de-duplicated in order, or ``InvalidSubscription`` naming each bad one."""
    if not patterns:
        raise InvalidSubscription("at least one event type (or '*') is needed")
    bad = [
        f"{p!r} is not an event type, a prefix ending in '*', or '*'"
        for p in patterns
        if not _PATTERN.match(p)
    ]
    if bad:
        raise InvalidSubscription("invalid event types", bad)
    return list(dict.fromkeys(patterns))


def matches(patterns: Sequence[str], event_type: str) -> bool:
    """Whether an event of ``event_type`` goes to a subscription with these patterns."""
    for pattern in patterns:
        if pattern == "*" or pattern == event_type:
            return True
        if pattern.endswith("*") and event_type.startswith(pattern[:-1]):
            return True
    return False


def _check_name(name: str) -> None:
    if not _NAME.match(name) or len(name) > 100:
        raise InvalidSubscription(
            "invalid name", [f"{name[:40]!r}: lower-case letters, digits, '-' or '_', at most 100"]
        )


async def get_subscription(session: AsyncSession, ref: str) -> WebhookSubscription:
    """The subscription named ``ref`` (or with id ``ref``)."""
    row = await session.scalar(
        select(WebhookSubscription).where(or_(WebhookSubscription.name == ref, WebhookSubscription.id == ref))
    )
    if row is None:
        raise SubscriptionNotFound(f"no webhook subscription {ref[:100]!r}")
    return row


async def list_subscriptions(session: AsyncSession) -> list[WebhookSubscription]:
    """Every subscription, by name."""
    return list((await session.scalars(select(WebhookSubscription).order_by(WebhookSubscription.name))).all())


async def create_subscription(
    session: AsyncSession,
    box: SecretBox,
    *,
    name: str,
    url: str,
    event_types: Sequence[str],
    enabled: bool = True,
    description: str | None = None,
) -> tuple[WebhookSubscription, str]:
    """Add a subscription and return it with its new secret (shown to the operator once).

    The URL must already have passed the hub's SSRF check; the domain cannot resolve hosts.
    """
    _check_name(name)
    patterns = validate_patterns(event_types)
    if await session.scalar(select(WebhookSubscription.id).where(WebhookSubscription.name == name)):
        raise DuplicateSubscription(f"a webhook subscription named {name!r} exists")
    secret = generate_secret()
    now = utcnow()
    row = WebhookSubscription(
        id=new_id(),
        name=name,
        url=url,
        description=description,
        event_types=patterns,
        secrets_ciphertext=box.seal({"current": secret}),
        enabled=enabled,
        disabled_at=None if enabled else now,
        disabled_reason=None if enabled else "created disabled",
        consecutive_failures=0,
        created_at=now,
        updated_at=now,
    )
    session.add(row)
    await session.flush()
    return row, secret


def active_secrets(box: SecretBox, row: WebhookSubscription, *, now: datetime | None = None) -> list[str]:
    """The secrets that sign a request now: the current one, and the previous during a rotation."""
    sealed = box.open(row.secrets_ciphertext)
    found = [sealed["current"]]
    expires = row.previous_secret_expires_at
    if "previous" in sealed and (expires is None or expires > (now or utcnow())):
        found.append(sealed["previous"])
    return found


async def rotate_secret(
    session: AsyncSession,
    box: SecretBox,
    row: WebhookSubscription,
    *,
    overlap: timedelta = DEFAULT_ROTATION_OVERLAP,
) -> str:
    """Make a new current secret; the old one keeps signing for ``overlap`` (or until retired).

    Rotating again during an overlap drops the oldest secret: at most two are ever active.
    """
    sealed = box.open(row.secrets_ciphertext)
    secret = generate_secret()
    row.secrets_ciphertext = box.seal({"current": secret, "previous": sealed["current"]})
    row.previous_secret_expires_at = utcnow() + overlap
    await session.flush()
    return secret


async def retire_previous_secret(session: AsyncSession, box: SecretBox, row: WebhookSubscription) -> bool:
    """Stop signing with the previous secret; ``False`` when no rotation was in progress."""
    sealed = box.open(row.secrets_ciphertext)
    had_previous = "previous" in sealed
    row.secrets_ciphertext = box.seal({"current": sealed["current"]})
    row.previous_secret_expires_at = None
    await session.flush()
    return had_previous


async def update_subscription(
    session: AsyncSession,
    row: WebhookSubscription,
    *,
    url: str | None = None,
    event_types: Sequence[str] | None = None,
    description: str | None = None,
) -> WebhookSubscription:
    """Change the URL (already SSRF-checked by the caller), patterns or description."""
    if url is not None:
        row.url = url
    if event_types is not None:
        row.event_types = validate_patterns(event_types)
    if description is not None:
        row.description = description
    await session.flush()
    return row


async def disable_subscription(
    session: AsyncSession,
    row: WebhookSubscription,
    reason: str,
    *,
    cause: Literal["gone", "failing", "operator"] = "operator",
    last_status: int | None = None,
    last_error: str | None = None,
) -> None:
    """Stop delivering to the subscription and raise ``webhook_subscription_disabled``.

    The event goes to the outbox in the caller's transaction, so operators (and other
    subscriptions that want it) hear of the disablement exactly when it commits. Its payload is
    a ``schemas.events.SubscriptionDisabled``: ``automatic`` is true exactly when the hub did
    it (``cause`` ``gone`` or ``failing``). Disabling an already disabled subscription changes
    and raises nothing.
    """
    if not row.enabled:
        return
    now = utcnow()
    row.enabled = False
    row.disabled_at = now
    row.disabled_reason = reason[:1000]
    await session.flush()
    await add_event(
        session,
        event_type=SUBSCRIPTION_DISABLED_EVENT,
        subject_type="webhook_subscription",
        subject_id=row.id,
        payload=SubscriptionDisabled(
            subscription_id=row.id,
            name=row.name,
            url=row.url,
            cause=cause,
            automatic=cause != "operator",
            reason=row.disabled_reason,
            consecutive_failures=row.consecutive_failures,
            last_status=last_status,
            last_error=(last_error or None) and last_error[:500],
        ).model_dump(),
    )


async def enable_subscription(session: AsyncSession, row: WebhookSubscription) -> None:
    """Deliver again; the failure streak starts from zero."""
    row.enabled = True
    row.disabled_at = None
    row.disabled_reason = None
    row.consecutive_failures = 0
    await session.flush()


async def delete_subscription(session: AsyncSession, row: WebhookSubscription) -> None:
    """Remove the subscription with its deliveries and attempts (cascade)."""
    await session.delete(row)
    await session.flush()
