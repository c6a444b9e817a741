"""The per-app ``WebhookService``, built lazily from the runtime the lifespan started."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import Depends, Request

from .service import WebhookService

__all__ = ["WebhookServiceDep", "get_webhook_service", "webhook_service_of"]


def webhook_service_of(app: Any) -> WebhookService:
    """The app's webhook service; made on first use so the app factory needs no change."""
    service: WebhookService | None = getattr(app.state, "webhook_service", None)
    runtime = app.state.runtime
    if service is None or service.sessions is not runtime.sessions:
        service = WebhookService.from_runtime(runtime)
        app.state.webhook_service = service
    return service


async def get_webhook_service(request: Request) -> WebhookService:
    """``webhook_service_of`` as a FastAPI dependency."""
    return webhook_service_of(request.app)


WebhookServiceDep = Annotated[WebhookService, Depends(get_webhook_service)]
