"""The two webhook event hooks: ``webhook_received`` (inbox) and ``webhook_subscription_disabled``."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from core import hookspecs
from hub.webhooks.processing import deliver_webhook
from plugins.events import deliver_event
from plugins.manager import make_plugin_manager
from plugins.sdk import hookimpl
from schemas.api.webhooks import WebhookDelivery, WebhookDeliveryEvent
from schemas.events import DomainEvent


def _delivery() -> WebhookDelivery:
    return WebhookDelivery(
        source="esign",
        instance="main",
        inbox_id="018f0000-0000-7000-8000-000000000001",
        received_at=datetime.now(UTC),
        event=WebhookDeliveryEvent(
            id="flow-42-finished", type="SIGN_FLOW_COMPLETE", payload={"flowId": "42"}, object_id="42"
        ),
    )


class _Seen:
    LENDHUB_HOOK_API = "1.0"

    def __init__(self) -> None:
        self.seen: list[Any] = []


class AsyncReceiver(_Seen):
    @hookimpl
    async def webhook_received(self, delivery: WebhookDelivery) -> None:
        self.seen.append(delivery)


class RaisingReceiver(_Seen):
    @hookimpl
    def webhook_received(self, delivery: WebhookDelivery) -> None:
        raise RuntimeError("contract service down")


class DisabledListener(_Seen):
    @hookimpl
    async def webhook_subscription_disabled(self, event: DomainEvent) -> None:
        self.seen.append(event)


def _host(*plugins: object):
    host = make_plugin_manager(load_entrypoints=False, builtins=())
    for n, plugin in enumerate(plugins):
        record = host.add_plugin(f"p{n}", plugin)
        assert record.status == "loaded", record.reason
    return host


def test_webhook_received_and_subscription_disabled_are_event_hooks():
    assert "webhook_subscription_disabled" in hookspecs.EVENT_HOOKS
    assert hookspecs.INBOUND_HOOKS == ("webhook_received",)


async def test_webhook_received_awaits_async_implementations_with_the_delivery():
    receiver = AsyncReceiver()
    failures = await deliver_webhook(_host(receiver), _delivery())
    assert failures == []
    [delivery] = receiver.seen
    assert (delivery.source, delivery.event.type, delivery.event.payload) == (
        "esign",
        "SIGN_FLOW_COMPLETE",
        {"flowId": "42"},
    )


async def test_webhook_received_isolates_a_raising_plugin():
    receiver, raiser = AsyncReceiver(), RaisingReceiver()
    failures = await deliver_webhook(_host(raiser, receiver), _delivery())
    assert len(receiver.seen) == 1
    [failure] = failures
    assert failure.plugin == "p0" and failure.hook == "webhook_received"
    assert failure.error == "RuntimeError: contract service down"


async def test_webhook_received_with_no_implementations_is_a_no_op():
    assert await deliver_webhook(_host(), _delivery()) == []


async def test_webhook_subscription_disabled_is_delivered_from_the_outbox_like_any_event():
    listener = DisabledListener()
    event = DomainEvent(
        type="webhook_subscription_disabled",
        subject_type="webhook_subscription",
        subject_id="sub-1",
        payload={"subscription_id": "sub-1", "reason": "gone", "last_status": 410},
    )
    failures = await deliver_event(_host(listener), "webhook_subscription_disabled", event)
    assert failures == [] and listener.seen == [event]
