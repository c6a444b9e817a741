"""Inbound webhooks: the ingest endpoint, the inbox admin API, processing jobs, source instances.

Wiring (done once by the composition root):

* ``app.include_router(ingest_router)`` and ``app.include_router(admin_router)``;
* ``register_inbox_handlers(handlers, host, retry_delays=settings.webhook_retry_delays)`` in
  ``hub.jobs.build_job_handlers``;
* the ``lendhub webhooks`` command group from ``hub.cli.webhooks``.
"""

from .admin import router as admin_router
from .ingest import router as ingest_router
from .processing import deliver_webhook, register_inbox_handlers
from .service import WebhookService
from .sources import SourceInstances, generate_whsec

__all__ = [
    "SourceInstances",
    "WebhookService",
    "admin_router",
    "deliver_webhook",
    "generate_whsec",
    "ingest_router",
    "register_inbox_handlers",
]
