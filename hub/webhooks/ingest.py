"""``POST /webhooks/{source}/{instance}``: verify on the raw bytes, store, then answer.

The order is the contract: resolve the instance (404), read the body under a cap (413 without
reading the rest), answer a handshake, verify (401/400 from the source's ``WebhookRejected``),
write the request and its events to the inbox in one transaction, and only then send the
source's 2xx reply. Every refusal is problem+json with the rejection's slug as its type, is
counted per source, instance and reason, and is logged without the payload.

The endpoint is a plain ASGI callable, ``serve_ingest``. Partners hit this path at volume, and
it needs only the path parameters, the headers and the body: FastAPI's per-request machinery
(the middleware stack, dependency solving, a ``Request`` with its lazily built URL) cost about
as much CPU as verifying and storing the webhook. ``router`` declares the path as an ordinary,
documented route calling the same code, for apps that mount it; ``hub.app`` sends matching
requests to ``serve_ingest`` directly, ahead of the middleware stack.
"""

from __future__ import annotations

import logging
from typing import Any
from urllib.parse import parse_qsl

from fastapi import APIRouter, Request, Response
from starlette.types import Receive, Scope, Send

from core.db import utcnow
from plugins.sdk import InboundRequest, WebhookRejected, WebhookReply

from ..api.problems import problem_response
from .deps import webhook_service_of
from .intake import MAX_JSON_DEPTH, nested_too_deep
from .service import WebhookService
from .sources import SourceInstanceError, UnknownSource

__all__ = ["INGEST_PATH", "ingest_params", "router", "serve_ingest"]

log = logging.getLogger("lendhub.webhooks.ingest")


INGEST_PATH = "/webhooks/{source}/{instance}"
_PREFIX = "/webhooks/"

_TITLES = {
    401: "Webhook not authenticated",
    400: "Webhook not accepted",
    404: "Webhook endpoint not found",
    413: "Webhook body too large",
}


def ingest_params(scope: Scope) -> dict[str, str] | None:
    """``source`` and ``instance`` when ``scope`` is a POST to ``INGEST_PATH``; ``None`` otherwise.

    Matches exactly what the declared route matches (two non-empty segments, no trailing slash),
    so anything else still reaches FastAPI and gets its usual 404, 405 or redirect.
    """
    if scope["type"] != "http" or scope["method"] != "POST":
        return None
    path: str = scope["path"]
    root: str = scope.get("root_path", "")
    if root and path.startswith(root):
        path = path[len(root) :]
    if not path.startswith(_PREFIX):
        return None
    parts = path[len(_PREFIX) :].split("/")
    if len(parts) != 2 or not parts[0] or not parts[1]:
        return None
    return {"source": parts[0], "instance": parts[1]}


async def serve_ingest(scope: Scope, receive: Receive, send: Send) -> None:
    """The ingest endpoint as an ASGI app; ``scope`` carries ``app`` and ``path_params``.

    An unexpected error is answered like the rest of the API's (a 500 problem naming no
    internals, the traceback in the log), since no middleware stands behind this callable.
    """
    params = scope["path_params"]
    try:
        response = await _receive_webhook(scope["app"], params["source"], params["instance"], scope, receive)
    except Exception:
        log.exception("unhandled error on POST %s", scope["path"])
        response = problem_response(
            500, "internal-error", "Internal error", "see the server log", instance=scope["path"]
        )
    await response(scope, receive, send)


router = APIRouter(tags=["webhooks"])


@router.post(INGEST_PATH, summary="Receive a partner webhook")
async def receive_webhook(source: str, instance: str, request: Request) -> Response:
    """Verify a partner's webhook on its raw bytes and store it in the inbox before answering.

    Answers the source's own reply (usually 200) once the events are durable; refusals are
    problem+json: 401 bad or stale signature, 400 undecryptable or unparsable, 404 unknown
    source or instance, 413 body over the limit. (``LendHubApp`` serves this path through
    ``serve_ingest`` instead; both call the same code.)
    """
    return await _receive_webhook(request.app, source, instance, request.scope, request.receive)


class _TooLarge(Exception):
    pass


class _Disconnected(Exception):
    pass


async def _read_body(scope: Scope, receive: Receive, limit: int) -> bytes:
    """The body, refusing as soon as it exceeds ``limit`` (declared or actually streamed)."""
    for name, value in scope["headers"]:
        if name == b"content-length" and value.isdigit() and int(value) > limit:
            raise _TooLarge
    chunks: list[bytes] = []
    size = 0
    while True:
        message = await receive()
        if message["type"] == "http.disconnect":
            raise _Disconnected
        chunk = message.get("body", b"")
        size += len(chunk)
        if size > limit:
            raise _TooLarge
        chunks.append(chunk)
        if not message.get("more_body", False):
            return chunks[0] if len(chunks) == 1 else b"".join(chunks)


def _refuse(
    service: WebhookService, path: str, source: str, instance: str, status: int, slug: str, detail: str
) -> Response:
    service.refuse(source, instance, slug, status=status)
    return problem_response(status, slug, _TITLES.get(status, "Webhook refused"), detail, instance=path)


def _response(reply: WebhookReply) -> Response:
    return Response(
        content=reply.body,
        status_code=reply.status,
        media_type=reply.content_type,
        headers=dict(reply.headers),
    )


async def _receive_webhook(app: Any, source: str, instance: str, scope: Scope, receive: Receive) -> Response:
    service = webhook_service_of(app)
    settings = app.state.runtime.settings
    path: str = scope["path"]
    try:
        webhook_source = await service.sources.resolve(service.sessions, source, instance)
    except UnknownSource:
        detail = "no webhook source of that name"
        return _refuse(service, path, "*", "*", 404, "webhook-source-not-found", detail)
    except SourceInstanceError:
        detail = "no enabled instance of that name for this source"
        return _refuse(service, path, source, "*", 404, "webhook-source-not-found", detail)
    try:
        body = await _read_body(scope, receive, settings.webhook_max_body_bytes)
    except _TooLarge:
        detail = f"the body exceeds {settings.webhook_max_body_bytes} bytes"
        return _refuse(service, path, source, instance, 413, "webhook-body-too-large", detail)
    except _Disconnected:
        # The partner hung up mid-body: nothing was verified or stored, and nobody hears an answer.
        log.info("webhook %s/%s: client disconnected before the body was complete", source, instance)
        return Response(status_code=400)
    if nested_too_deep(body):
        detail = f"the JSON body nests deeper than {MAX_JSON_DEPTH} levels"
        return _refuse(service, path, source, instance, 400, "webhook-unparsable", detail)
    now = utcnow()
    query: bytes = scope["query_string"]
    inbound = InboundRequest(
        method="POST",
        path=path,
        query=dict(parse_qsl(query.decode("latin-1"), keep_blank_values=True)) if query else {},
        headers={name.decode("latin-1"): value.decode("latin-1") for name, value in scope["headers"]},
        body=body,
        received_at=now,
    )
    try:
        handshake = webhook_source.handshake(inbound, now=now)
        if handshake is not None:
            return _response(handshake)
        result = await service.ingest(webhook_source, inbound)
    except WebhookRejected as exc:
        return _refuse(service, path, source, instance, exc.status, exc.slug, str(exc))
    return _response(webhook_source.reply(inbound, result.events, now=now))
