"""Fan-out of outbox events to subscriptions, and the state machine of one delivery.

Life of a delivery (HTTP is the hub's business; this module only decides and records)::

    fan_out ──► pending ──attempt──► delivered                       (2xx)
                   ▲          │
                   │          ├────► failed ──(next_attempt_at)──► attempt again
     redeliver ────┘          │                                    (3xx, 4xx, 429, 5xx, timeout,
                              │                                     connection error)
                              └────► dead   schedule exhausted, 410 Gone (the subscription is
                                            disabled too), target refused by the SSRF guard,
                                            subscription disabled meanwhile

Each attempt is one ``webhook.deliver`` job. The delivery names the job allowed to act on it
(``job_id``): a retry or a redelivery enqueues a new job and replaces the name, so a stale
wake-up finds itself fenced out, while a job re-run after its worker died keeps its name and
carries on. Attempts run on the retry schedule (seconds before attempt 1, 2, …), stretched by
up to ``jitter`` at random and by the partner's ``Retry-After`` (capped at the longest step).
Every failed attempt adds one to the subscription's ``consecutive_failures``; any success resets
it; reaching ``disable_after_failures`` disables the subscription and raises
``webhook_subscription_disabled`` in the same transaction.
"""

from __future__ import annotations

import json
import random
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from core.db import new_id, utcnow
from core.jobs.repository import enqueue
from core.outbox import OutboxEvent
from core.secretbox import SecretBox

from .models import DeliveryStatus, WebhookDelivery, WebhookDeliveryAttempt, WebhookSubscription
from .subscriptions import active_secrets, disable_subscription, matches

__all__ = [
    "DELIVER_JOB_KIND",
    "AttemptResult",
    "DeliveryPolicy",
    "PreparedAttempt",
    "begin_attempt",
    "envelope",
    "fan_out",
    "finish_attempt",
    "list_attempts",
    "list_deliveries",
    "redeliver",
]

DELIVER_JOB_KIND = "webhook.deliver"
#: Claims of one attempt's job: more than one only when a worker died during the request.
DELIVER_JOB_MAX_ATTEMPTS = 3
_MAX_TEXT = 2000


@dataclass(frozen=True, slots=True)
class DeliveryPolicy:
    """The retry schedule and the auto-disable threshold (from the hub's settings).

    Args:
        retry_delays: seconds before attempt 1, 2, …; its length is the number of automatic
            attempts.
        disable_after_failures: consecutive failed attempts (across deliveries) that disable
            the subscription.
        jitter: each wait is stretched by up to this fraction of itself, at random.
    """

    retry_delays: Sequence[float]
    disable_after_failures: int
    jitter: float = 0.1

    def delay_before(self, attempt: int, retry_after: float | None = None) -> float | None:
        """Seconds to wait before the 1-based ``attempt``; ``None`` once the schedule is used up."""
        if attempt < 1 or attempt > len(self.retry_delays):
            return None
        delay = float(self.retry_delays[attempt - 1])
        if retry_after is not None and retry_after > delay:
            delay = min(retry_after, max(self.retry_delays))
        return delay * (1.0 + self.jitter * random.random())


@dataclass(frozen=True, slots=True)
class AttemptResult:
    """What one HTTP attempt came to, as the sender saw it.

    Args:
        status_code: the partner's HTTP status, ``None`` if no answer.
        error: why it failed, in words without secrets; ``None`` on a 2xx.
        latency_ms: time to the answer or the failure.
        response_excerpt: the start of the partner's answer.
        retry_after: the partner's ``Retry-After`` in seconds.
        target_ip: the address the request went to (after the SSRF check).
        refused: the SSRF guard refused the target: permanent, nothing was sent.
    """

    status_code: int | None
    error: str | None = None
    latency_ms: float = 0.0
    response_excerpt: str | None = None
    retry_after: float | None = None
    target_ip: str | None = None
    refused: bool = False

    @property
    def delivered(self) -> bool:
        """A 2xx: the partner has it."""
        return self.status_code is not None and 200 <= self.status_code < 300

    @property
    def gone(self) -> bool:
        """410: the partner says the endpoint is gone for good."""
        return self.status_code == 410


@dataclass(frozen=True, slots=True)
class PreparedAttempt:
    """Everything the sender needs, read before the request so no transaction spans it."""

    delivery_id: str
    attempt_id: str
    attempt: int
    subscription_id: str
    msg_id: str
    url: str
    event_type: str
    body: bytes
    secrets: tuple[str, ...]


def envelope(event: OutboxEvent) -> bytes:
    """The Standard Webhooks body: ``type``, ``timestamp`` (of the event, ISO 8601) and ``data``.

    Serialised compactly and deterministically, so every retry sends the same bytes.
    """
    document = {
        "type": event.event_type,
        "timestamp": event.occurred_at.isoformat().replace("+00:00", "Z"),
        "data": event.payload,
    }
    return json.dumps(
        document, separators=(",", ":"), ensure_ascii=False, sort_keys=True, default=str
    ).encode()


def _msg_id() -> str:
    # Standard Webhooks: the id must not contain '.', which separates the signed parts.
    return "msg_" + new_id().replace("-", "")


async def _schedule(session: AsyncSession, delivery: WebhookDelivery, delay: float) -> str:
    run_after = utcnow() + timedelta(seconds=delay)
    job_id = await enqueue(
        session,
        DELIVER_JOB_KIND,
        {"delivery_id": delivery.id},
        run_after=run_after,
        max_attempts=DELIVER_JOB_MAX_ATTEMPTS,
    )
    delivery.job_id = job_id
    delivery.next_attempt_at = run_after
    return job_id


async def fan_out(session: AsyncSession, event: OutboxEvent) -> list[str]:
    """One delivery and its first ``webhook.deliver`` job per enabled, matching subscription.

    Runs in the caller's transaction (the outbox dispatch job's): a rollback leaves neither
    deliveries nor jobs. Idempotent: a subscription that already has a delivery of this event
    gets no second one, so a retried dispatch never double-sends.

    Returns:
        The ids of the deliveries created now.
    """
    subscriptions = (
        await session.scalars(
            select(WebhookSubscription)
            .where(WebhookSubscription.enabled.is_(True))
            .order_by(WebhookSubscription.name)
        )
    ).all()
    wanted = [s for s in subscriptions if matches(s.event_types, event.event_type)]
    if not wanted:
        return []
    existing = set(
        (
            await session.scalars(
                select(WebhookDelivery.subscription_id).where(WebhookDelivery.outbox_id == event.id)
            )
        ).all()
    )
    created: list[str] = []
    now = utcnow()
    for subscription in wanted:
        if subscription.id in existing:
            continue
        delivery = WebhookDelivery(
            id=new_id(),
            subscription_id=subscription.id,
            outbox_id=event.id,
            event_id=event.event_id,
            event_type=event.event_type,
            msg_id=_msg_id(),
            status=DeliveryStatus.PENDING.value,
            attempts=0,
            created_at=now,
            updated_at=now,
        )
        session.add(delivery)
        await session.flush()
        await _schedule(session, delivery, 0.0)
        created.append(delivery.id)
    await session.flush()
    return created


def _kill(delivery: WebhookDelivery, reason: str) -> None:
    delivery.status = DeliveryStatus.DEAD.value
    delivery.last_error = reason[:_MAX_TEXT]
    delivery.next_attempt_at = None


async def begin_attempt(
    session: AsyncSession, box: SecretBox, delivery_id: str, job_id: str
) -> PreparedAttempt | None:
    """Record the start of an attempt and return what to send; ``None`` when there is nothing to do.

    Nothing to do: the delivery is gone, final, or owned by another job (a stale wake-up); or
    its subscription was disabled (the delivery is then marked dead, redeliverable later).
    """
    delivery = await session.get(WebhookDelivery, delivery_id)
    if delivery is None or delivery.job_id != job_id:
        return None
    if delivery.status in (DeliveryStatus.DELIVERED.value, DeliveryStatus.DEAD.value):
        return None
    subscription = await session.get(WebhookSubscription, delivery.subscription_id)
    event = await session.get(OutboxEvent, delivery.outbox_id)
    if subscription is None or not subscription.enabled:
        reason = subscription.disabled_reason if subscription else None
        _kill(delivery, f"subscription disabled: {reason or 'by an operator'}")
        await session.flush()
        return None
    if event is None:
        _kill(delivery, "the outbox event no longer exists")
        await session.flush()
        return None
    delivery.attempts += 1
    attempt = WebhookDeliveryAttempt(
        id=new_id(),
        delivery_id=delivery.id,
        attempt=delivery.attempts,
        url=subscription.url,
        started_at=utcnow(),
    )
    session.add(attempt)
    await session.flush()
    return PreparedAttempt(
        delivery_id=delivery.id,
        attempt_id=attempt.id,
        attempt=attempt.attempt,
        subscription_id=subscription.id,
        msg_id=delivery.msg_id,
        url=subscription.url,
        event_type=delivery.event_type,
        body=envelope(event),
        secrets=tuple(active_secrets(box, subscription)),
    )


async def finish_attempt(
    session: AsyncSession, prepared: PreparedAttempt, result: AttemptResult, policy: DeliveryPolicy
) -> DeliveryStatus:
    """Record an attempt's outcome and decide what follows; returns the delivery's new status."""
    # The counter is changed by one UPDATE first: concurrent deliveries to one subscription
    # never lose an increment, and SQLite takes its write lock before anything is read.
    counter = WebhookSubscription.consecutive_failures
    change = 0 if result.delivered else counter + 1
    await session.execute(
        update(WebhookSubscription)
        .where(WebhookSubscription.id == prepared.subscription_id)
        .values(consecutive_failures=change)
        .execution_options(synchronize_session=False)
    )
    subscription = await session.get(WebhookSubscription, prepared.subscription_id, populate_existing=True)
    delivery = await session.get(WebhookDelivery, prepared.delivery_id, populate_existing=True)
    attempt = await session.get(WebhookDeliveryAttempt, prepared.attempt_id, populate_existing=True)
    if delivery is None or attempt is None or subscription is None:
        return DeliveryStatus.DEAD  # deleted during the request (cascade)
    now = utcnow()
    attempt.finished_at = now
    attempt.status_code = result.status_code
    attempt.latency_ms = round(result.latency_ms, 2)
    attempt.error = result.error[:_MAX_TEXT] if result.error else None
    attempt.response_excerpt = result.response_excerpt
    attempt.target_ip = result.target_ip
    delivery.last_status_code = result.status_code
    delivery.last_error = attempt.error
    if result.delivered:
        delivery.status = DeliveryStatus.DELIVERED.value
        delivery.delivered_at = now
        delivery.next_attempt_at = None
        await session.flush()
        return DeliveryStatus.DELIVERED
    if result.gone:
        _kill(delivery, "the partner answered 410 Gone")
        await disable_subscription(
            session,
            subscription,
            "the endpoint answered 410 Gone",
            cause="gone",
            last_status=result.status_code,
            last_error=attempt.error,
        )
    elif result.refused:
        _kill(delivery, result.error or "target refused")
    else:
        delay = policy.delay_before(delivery.attempts + 1, result.retry_after)
        if delay is None:
            _kill(delivery, f"gave up after {delivery.attempts} attempts: {result.error or 'failed'}")
        else:
            delivery.status = DeliveryStatus.FAILED.value
            await _schedule(session, delivery, delay)
    if subscription.enabled and subscription.consecutive_failures >= policy.disable_after_failures:
        await disable_subscription(
            session,
            subscription,
            f"{subscription.consecutive_failures} consecutive failed attempts",
            cause="failing",
            last_status=result.status_code,
            last_error=attempt.error,
        )
    await session.flush()
    return DeliveryStatus(delivery.status)


async def redeliver(session: AsyncSession, delivery: WebhookDelivery) -> str:
    """Queue one more attempt now (same ``webhook-id``); returns the job id.

    Any attempt already scheduled is superseded. A manual attempt beyond the schedule that fails
    is not retried automatically.
    """
    delivery.status = DeliveryStatus.PENDING.value
    job_id = await _schedule(session, delivery, 0.0)
    await session.flush()
    return job_id


async def list_deliveries(
    session: AsyncSession, subscription_id: str, *, status: str | None = None, limit: int = 50
) -> list[WebhookDelivery]:
    """A subscription's deliveries, newest first."""
    query = select(WebhookDelivery).where(WebhookDelivery.subscription_id == subscription_id)
    if status is not None:
        query = query.where(WebhookDelivery.status == status)
    query = query.order_by(WebhookDelivery.created_at.desc(), WebhookDelivery.id.desc()).limit(limit)
    return list((await session.scalars(query)).all())


async def list_attempts(session: AsyncSession, delivery_id: str) -> list[WebhookDeliveryAttempt]:
    """A delivery's attempts, first first."""
    query = (
        select(WebhookDeliveryAttempt)
        .where(WebhookDeliveryAttempt.delivery_id == delivery_id)
        .order_by(WebhookDeliveryAttempt.attempt)
    )
    return list((await session.scalars(query)).all())
