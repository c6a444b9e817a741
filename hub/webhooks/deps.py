"""The per-app ``WebhookService``, built lazily from the runtime the lifespan started."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request

from .service import WebhookService

__all__ = ["WebhookServiceDep", "get_webhook_service"]


async def get_webhook_service(request: Request) -> WebhookService:
    """The app's webhook service; made on first use so the app factory needs no change."""
    service: WebhookService | None = getattr(request.app.state, "webhook_service", None)
    runtime = request.app.state.runtime
    if service is None or service.sessions is not runtime.sessions:
        service = WebhookService.from_runtime(runtime)
        request.app.state.webhook_service = service
    return service


WebhookServiceDep = Annotated[WebhookService, Depends(get_webhook_service)]
