"""The ``webhook.deliver`` job: one attempt of one delivery, recorded before and after the request.

The job runs in three steps on the job's session:

1. ``begin_attempt`` records the attempt (and bumps the delivery's counter) and is committed at
   once. Committing inside a handler is deliberate: no database transaction stays open across a
   request that may take ``outbound_timeout_seconds``, and a worker killed mid-request leaves an
   attempt row without ``finished_at`` — the attempt is visible, not lost.
2. ``send_attempt`` checks the target again (DNS may have changed) and posts, outside any
   transaction.
3. ``finish_attempt`` records the outcome, schedules the retry or disables the subscription; it
   commits with the job's completion, so a crash here redoes the attempt (same ``webhook-id``:
   the partner deduplicates) and never records one outcome twice.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any, Protocol

import httpx
from sqlalchemy.ext.asyncio import AsyncSession

from core.jobs.handlers import JobHandlers, PermanentJobError
from core.jobs.repository import ClaimedJob
from core.secretbox import SecretBox
from core.webhooks_out import DELIVER_JOB_KIND, DeliveryPolicy, begin_attempt, finish_attempt
from plugins.sdk import CookielessAsyncClient

from .sender import send_attempt
from .ssrf import AllowList

__all__ = ["LazyClient", "OutboundSettings", "register_outbound_handlers"]

log = logging.getLogger(__name__)


class OutboundSettings(Protocol):
    """The settings the handler reads (``hub.settings.Settings`` has them all)."""

    @property
    def outbound_retry_delays(self) -> list[float]:
        """Seconds before each attempt."""
        ...

    outbound_timeout_seconds: float
    outbound_disable_after_failures: int
    outbound_allow_private_targets: str


class LazyClient:
    """An ``http_factory`` for processes without a shared client (``lendhub worker``).

    The client is made on first use, inside the running event loop, and keeps no cookies:
    one partner's session cookie must never ride along to another.
    """

    def __init__(self) -> None:
        self._client: httpx.AsyncClient | None = None

    def __call__(self) -> httpx.AsyncClient:
        """The client, created on the first call."""
        if self._client is None:
            self._client = CookielessAsyncClient(
                follow_redirects=False, limits=httpx.Limits(max_connections=100)
            )
        return self._client

    async def aclose(self) -> None:
        """Close the client if it was made."""
        if self._client is not None:
            await self._client.aclose()
            self._client = None


def register_outbound_handlers(
    handlers: JobHandlers,
    *,
    settings: OutboundSettings,
    box: SecretBox,
    http_factory: Callable[[], httpx.AsyncClient],
) -> None:
    """Register the ``webhook.deliver`` job handler.

    Args:
        handlers: the process's job registry.
        settings: retry schedule, timeout, auto-disable threshold and the private-target allow list.
        box: opens the subscriptions' sealed secrets.
        http_factory: returns the client to post with (called per attempt, so the runtime's
            shared client can be created after the handlers); redirects are never followed
            whatever the client's default.
    """
    policy = DeliveryPolicy(
        retry_delays=tuple(settings.outbound_retry_delays),
        disable_after_failures=settings.outbound_disable_after_failures,
    )
    allow = AllowList.from_setting(settings.outbound_allow_private_targets)
    timeout = settings.outbound_timeout_seconds

    async def deliver(session: AsyncSession, payload: dict[str, Any], job: ClaimedJob) -> None:
        delivery_id = payload.get("delivery_id")
        if not isinstance(delivery_id, str):
            raise PermanentJobError("webhook.deliver job without a delivery_id")
        prepared = await begin_attempt(session, box, delivery_id, job.id)
        if prepared is None:
            return
        await session.commit()
        result = await send_attempt(http_factory(), prepared, allow=allow, timeout_seconds=timeout)
        status = await finish_attempt(session, prepared, result, policy)
        log.info(
            "webhook %s (%s) to subscription %s attempt %d: %s -> %s",
            prepared.msg_id,
            prepared.event_type,
            prepared.subscription_id,
            prepared.attempt,
            result.status_code if result.status_code is not None else (result.error or "no answer"),
            status.value,
        )

    handlers.register(DELIVER_JOB_KIND, deliver)
