"""The API's locks: who is calling (bearer tokens), whether they may (declared permissions).

Every ``/api`` route declares the permission it needs with ``Depends(require("code"))`` — the
same object a meta-test reads to walk every route and try it without credentials and without
the permission, so a route added later cannot forget its lock. Only ``POST /api/auth/token`` is
open. Bearer tokens only (no cookies): a cross-site page cannot borrow a session, and the guard
middleware below refuses unknown ``Host`` headers (DNS rebinding) and non-JSON bodies on changes.
"""

from __future__ import annotations

import re
import uuid
from dataclasses import dataclass
from typing import Any

from fastapi import Depends, Request
from starlette.types import ASGIApp, Receive, Scope, Send

from core.access import Actor
from core.access.auth import actor_for_bearer
from core.errors import Forbidden, Unauthenticated
from core.i18n import negotiate, translate

__all__ = ["GuardMiddleware", "Require", "authenticate", "open_route", "request_origin", "require"]

_REQUEST_ID = re.compile(r"^[A-Za-z0-9._:-]{1,100}$")


def request_origin(request: Request) -> tuple[str, str | None]:
    """The request id (the caller's ``X-Request-ID`` when sane, else a new one) and client address."""
    given = request.headers.get("x-request-id", "")
    request_id = given if _REQUEST_ID.match(given) else uuid.uuid4().hex
    client = request.client.host if request.client else None
    return request_id, client


async def authenticate(request: Request) -> Actor:
    """The actor behind the request's bearer token; ``Unauthenticated`` when there is none."""
    cached: Actor | None = getattr(request.state, "actor", None)
    if cached is not None:
        return cached
    header = request.headers.get("authorization", "")
    scheme, _, value = header.partition(" ")
    if scheme.lower() != "bearer" or not value.strip():
        raise Unauthenticated("auth.required")
    runtime = request.app.state.runtime
    async with runtime.sessions() as session:  # read-only and short: the endpoint has its own
        actor = await actor_for_bearer(session, runtime.signing_keys, value.strip())
    request_id, client = request_origin(request)
    actor = actor.at(request_id=request_id, client_addr=client)
    request.state.actor = actor
    return actor


@dataclass(frozen=True)
class Require:
    """A dependency that authenticates the caller and checks one permission; returns the actor."""

    permission: str

    async def __call__(self, request: Request) -> Actor:
        """Authenticate, then refuse with 403 naming the permission when the caller lacks it."""
        actor = await authenticate(request)
        if not actor.can(self.permission):
            raise Forbidden("auth.forbidden", permission=self.permission)
        return actor


def require(permission: str) -> Any:
    """``Depends(Require(permission))``, as a parameter default or in a route's ``dependencies``."""
    return Depends(Require(permission))


def open_route(reason: str) -> Any:
    """Mark a route as deliberately open (only the sign-in route); ``reason`` is for readers."""

    async def _open() -> str:
        return reason

    _open.lendhub_open_route = reason  # type: ignore[attr-defined]
    return Depends(_open)


_CHANGES = frozenset({"POST", "PUT", "PATCH", "DELETE"})
_JSON_EXEMPT = ("/api/auth/token",)  # OAuth2's password flow is a form by its RFC
# Files are sent as raw bodies of their own type. A form can only send these three types without a
# CORS preflight, so refusing them keeps cross-site forms out just as requiring JSON does.
_UPLOADS = re.compile(r"^/api/(imports$|(customers|applications)/[^/]+/documents/[^/]+$)")
_FORM_TYPES = frozenset({"application/x-www-form-urlencoded", "multipart/form-data", "text/plain"})


class GuardMiddleware:
    """Refuse requests for unknown hosts, and state changes under ``/api`` that are not JSON.

    Host checking stops DNS rebinding (a page on another site resolving its name to this
    server); requiring ``application/json`` keeps plain HTML forms, which browsers send across
    sites without a preflight, from reaching a change. ``/healthz`` and ``/readyz`` answer any
    host, for load balancers and probes that address the server by IP.
    """

    def __init__(self, app: ASGIApp, *, allowed_hosts: list[str]) -> None:
        self.app = app
        self.any_host = "*" in allowed_hosts
        self.exact = {h for h in allowed_hosts if not h.startswith(".")}
        self.suffixes = tuple(h for h in allowed_hosts if h.startswith("."))

    def host_allowed(self, host_header: str) -> bool:
        """Whether a ``Host`` value (port ignored, case-insensitive) is one we answer for."""
        if self.any_host:
            return True
        host = host_header.strip().lower()
        if host.startswith("["):
            host = host[: host.find("]") + 1] if "]" in host else host
        else:
            host = host.rsplit(":", 1)[0] if host.count(":") == 1 else host
        return host in self.exact or any(host.endswith(s) or host == s[1:] for s in self.suffixes)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Check the host and, for changes under ``/api``, the media type; then pass on."""
        if scope["type"] != "http" or scope["path"] in ("/healthz", "/readyz"):
            await self.app(scope, receive, send)
            return
        headers = {k.decode("latin-1").lower(): v.decode("latin-1") for k, v in scope["headers"]}
        language = negotiate(headers.get("accept-language"))
        if not self.host_allowed(headers.get("host", "")):
            host = headers.get("host", "")[:100]
            await _refuse(send, scope, 400, "host-not-allowed", "auth.host_not_allowed", language, host=host)
            return
        path: str = scope["path"]
        if scope["method"] in _CHANGES and path.startswith("/api/") and path not in _JSON_EXEMPT:
            media = headers.get("content-type", "").split(";")[0].strip().lower()
            has_body = headers.get("content-length", "0") not in ("", "0") or "transfer-encoding" in headers
            upload = _UPLOADS.match(path) and media and media not in _FORM_TYPES
            if has_body and media != "application/json" and not media.endswith("+json") and not upload:
                await _refuse(send, scope, 415, "json-required", "auth.json_required", language)
                return
        await self.app(scope, receive, send)


async def _refuse(
    send: Send, scope: Scope, status: int, slug: str, code: str, language: str, **params: str
) -> None:
    from .problems import PROBLEM_JSON, problem_body

    message = translate(code, language, **params)
    body = problem_body(status, slug, message, code=code, instance=scope["path"])
    await send(
        {
            "type": "http.response.start",
            "status": status,
            "headers": [
                (b"content-type", PROBLEM_JSON.encode()),
                (b"content-length", str(len(body)).encode()),
            ],
        }
    )
    await send({"type": "http.response.body", "body": body})
