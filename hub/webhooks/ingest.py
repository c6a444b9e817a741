"""``POST /webhooks/{source}/{instance}``: verify on the raw bytes, store, then answer.

The order is the contract: resolve the instance (404), read the body under a cap (413 without
reading the rest), answer a handshake, verify (401/400 from the source's ``WebhookRejected``),
write the request and its events to the inbox in one transaction, and only then send the
source's 2xx reply. Every refusal is problem+json with the rejection's slug as its type, is
counted per source, instance and reason, and is logged without the payload.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Coroutine
from typing import Any

from fastapi import APIRouter, Request, Response
from fastapi.responses import JSONResponse
from fastapi.routing import APIRoute
from starlette.requests import ClientDisconnect

from core.db import utcnow
from plugins.sdk import InboundRequest, WebhookRejected, WebhookReply

from ..api.problems import problem_response
from .deps import get_webhook_service
from .service import WebhookService
from .sources import SourceInstanceError, UnknownSource

__all__ = ["router"]

log = logging.getLogger("lendhub.webhooks.ingest")


class _IngestRoute(APIRoute):
    """Declared and documented like any route, but served without per-request dependency solving.

    Ingestion is the one path partners hit at volume. Solving its parameters through FastAPI's
    dependency machinery was about a sixth of its CPU per request; the endpoint needs nothing but
    the two path parameters, which routing has already extracted.
    """

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        endpoint = self.endpoint

        async def handler(request: Request) -> Response:
            params = request.path_params
            response: Response = await endpoint(params["source"], params["instance"], request)
            return response

        return handler


router = APIRouter(tags=["webhooks"], route_class=_IngestRoute)

_TITLES = {
    401: "Webhook not authenticated",
    400: "Webhook not accepted",
    404: "Webhook endpoint not found",
    413: "Webhook body too large",
}


class _TooLarge(Exception):
    pass


async def _read_body(request: Request, limit: int) -> bytes:
    """The body, refusing as soon as it exceeds ``limit`` (declared or actually streamed)."""
    declared = request.headers.get("content-length")
    if declared is not None and declared.isdigit() and int(declared) > limit:
        raise _TooLarge
    chunks: list[bytes] = []
    size = 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            raise _TooLarge
        chunks.append(chunk)
    return b"".join(chunks)


async def _refuse(
    service: WebhookService, request: Request, source: str, instance: str, status: int, slug: str, detail: str
) -> JSONResponse:
    service.refuse(source, instance, slug)
    log.warning("webhook refused: source=%s instance=%s status=%d reason=%s", source, instance, status, slug)
    return problem_response(
        status, slug, _TITLES.get(status, "Webhook refused"), detail, instance=request.url.path
    )


def _response(reply: WebhookReply) -> Response:
    return Response(
        content=reply.body,
        status_code=reply.status,
        media_type=reply.content_type,
        headers=dict(reply.headers),
    )


@router.post("/webhooks/{source}/{instance}", include_in_schema=True, summary="Receive a partner webhook")
async def receive_webhook(source: str, instance: str, request: Request) -> Response:
    """Verify a partner's webhook on its raw bytes and store it in the inbox before answering."""
    service = await get_webhook_service(request)
    settings = request.app.state.runtime.settings
    try:
        webhook_source = await service.sources.resolve(service.sessions, source, instance)
    except UnknownSource:
        detail = "no webhook source of that name"
        return await _refuse(service, request, "*", "*", 404, "webhook-source-not-found", detail)
    except SourceInstanceError:
        detail = "no enabled instance of that name for this source"
        return await _refuse(service, request, source, "*", 404, "webhook-source-not-found", detail)
    try:
        body = await _read_body(request, settings.webhook_max_body_bytes)
    except _TooLarge:
        detail = f"the body exceeds {settings.webhook_max_body_bytes} bytes"
        return await _refuse(service, request, source, instance, 413, "webhook-body-too-large", detail)
    except ClientDisconnect:
        # The partner hung up mid-body: nothing was verified or stored, and nobody hears an answer.
        log.info("webhook %s/%s: client disconnected before the body was complete", source, instance)
        return Response(status_code=400)
    now = utcnow()
    inbound = InboundRequest(
        method=request.method,
        path=request.url.path,
        query=dict(request.query_params),
        headers={name.lower(): value for name, value in request.headers.items()},
        body=body,
        received_at=now,
    )
    try:
        handshake = webhook_source.handshake(inbound, now=now)
        if handshake is not None:
            return _response(handshake)
        result = await service.ingest(webhook_source, inbound)
    except WebhookRejected as exc:
        return await _refuse(service, request, source, instance, exc.status, exc.slug, str(exc))
    return _response(webhook_source.reply(inbound, result.events, now=now))
