"""The durable webhook inbox: tables and race-safe persistence (no HTTP, no plugins here).

The hub's ``hub.webhooks`` package verifies requests with the plugins' webhook sources and
uses this package to store, process, replay and discard what they carry.
"""

from core.webhooks.models import (
    InboxStatus,
    WebhookInboxEvent,
    WebhookObjectVersion,
    WebhookRefusalCount,
    WebhookRequest,
    WebhookSourceInstance,
)
from core.webhooks.repository import (
    FINAL_STATUSES,
    PROCESS_JOB,
    NewInboxEvent,
    NewRequest,
    StoredDelivery,
    store_deliveries,
)

__all__ = [
    "FINAL_STATUSES",
    "PROCESS_JOB",
    "InboxStatus",
    "NewInboxEvent",
    "NewRequest",
    "StoredDelivery",
    "WebhookInboxEvent",
    "WebhookObjectVersion",
    "WebhookRefusalCount",
    "WebhookRequest",
    "WebhookSourceInstance",
    "store_deliveries",
]
