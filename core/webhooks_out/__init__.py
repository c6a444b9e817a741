"""Signed outbound event delivery to partner subscriptions (the domain half).

Tables (``models``), subscription management (``subscriptions``) and the delivery state machine
with fan-out (``deliveries``). The HTTP side — SSRF guard, sending, the job handler and the admin
API — lives in ``hub.outbound``; nothing here imports an HTTP client or a web framework.
"""

from .deliveries import (
    DELIVER_JOB_KIND,
    AttemptResult,
    DeliveryPolicy,
    PreparedAttempt,
    begin_attempt,
    envelope,
    fan_out,
    finish_attempt,
    list_attempts,
    list_deliveries,
    redeliver,
)
from .models import DeliveryStatus, WebhookDelivery, WebhookDeliveryAttempt, WebhookSubscription
from .subscriptions import (
    SUBSCRIPTION_DISABLED_EVENT,
    DuplicateSubscription,
    InvalidSubscription,
    SubscriptionError,
    SubscriptionNotFound,
    active_secrets,
    create_subscription,
    delete_subscription,
    disable_subscription,
    enable_subscription,
    generate_secret,
    get_subscription,
    list_subscriptions,
    matches,
    retire_previous_secret,
    rotate_secret,
    update_subscription,
    validate_patterns,
)

__all__ = [
    "DELIVER_JOB_KIND",
    "SUBSCRIPTION_DISABLED_EVENT",
    "AttemptResult",
    "DeliveryPolicy",
    "DeliveryStatus",
    "DuplicateSubscription",
    "InvalidSubscription",
    "PreparedAttempt",
    "SubscriptionError",
    "SubscriptionNotFound",
    "WebhookDelivery",
    "WebhookDeliveryAttempt",
    "WebhookSubscription",
    "active_secrets",
    "begin_attempt",
    "create_subscription",
    "delete_subscription",
    "disable_subscription",
    "enable_subscription",
    "envelope",
    "fan_out",
    "finish_attempt",
    "generate_secret",
    "get_subscription",
    "list_attempts",
    "list_deliveries",
    "list_subscriptions",
    "matches",
    "redeliver",
    "retire_previous_secret",
    "rotate_secret",
    "update_subscription",
    "validate_patterns",
]
