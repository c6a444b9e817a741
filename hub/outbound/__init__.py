"""Signed outbound webhooks (the hub half): SSRF guard, sender, the delivery job, the admin API.

Wiring, done once by the host:

* ``register_outbound_handlers(handlers, settings=…, box=…, http_factory=…)`` adds the
  ``webhook.deliver`` job;
* the outbox dispatcher calls ``core.webhooks_out.fan_out(session, event)`` for every event,
  in the dispatch job's transaction;
* ``app.include_router(hub.outbound.router.router)`` mounts ``/api/webhooks/subscriptions``.
"""

from .handler import LazyClient, OutboundSettings, register_outbound_handlers
from .sender import send_attempt, sign_all
from .ssrf import AllowList, ResolvedTarget, TargetRefused, TargetUnresolvable, refusal_reason, resolve_target

__all__ = [
    "AllowList",
    "LazyClient",
    "OutboundSettings",
    "ResolvedTarget",
    "TargetRefused",
    "TargetUnresolvable",
    "refusal_reason",
    "register_outbound_handlers",
    "resolve_target",
    "send_attempt",
    "sign_all",
]
