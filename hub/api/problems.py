"""Every error leaves the API as RFC 9457 ``application/problem+json``.

One place maps exceptions to problems so endpoints raise domain errors and never build error
bodies themselves. Unexpected exceptions become a 500 that names no internals; the log keeps the
traceback.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Iterable, Iterator
from typing import Any

from fastapi import FastAPI, Request
from fastapi.encoders import jsonable_encoder
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, Response
from starlette.exceptions import HTTPException as StarletteHTTPException

from core.errors import DomainError, Unauthenticated
from core.i18n import negotiate, translate
from core.integrations.errors import (
    AuthError,
    ConnectorError,
    InvalidRequest,
    NotFound,
    PermanentError,
    QuotaExhausted,
    TransientError,
)
from schemas.api.common import Problem

__all__ = [
    "PROBLEM_JSON",
    "ProblemError",
    "allowed_methods",
    "install_problem_handlers",
    "problem_body",
    "problem_response",
]

log = logging.getLogger(__name__)

PROBLEM_JSON = "application/problem+json"
_TYPE_BASE = "https://lendhub.dev/problems/"


class ProblemError(Exception):
    """Raise from an endpoint to answer with a specific problem.

    Args:
        status: HTTP status.
        slug: stable machine-readable kind, becomes the problem ``type``.
        title: short human summary, the same for every occurrence of ``slug``.
        detail: this occurrence, for people; never secrets or PII.
        extra: further members added to the body.
    """

    def __init__(self, status: int, slug: str, title: str, detail: str | None = None, **extra: Any) -> None:
        super().__init__(detail or title)
        self.status = status
        self.slug = slug
        self.title = title
        self.detail = detail
        self.extra = extra


def problem_response(
    status: int,
    slug: str,
    title: str,
    detail: str | None = None,
    *,
    instance: str | None = None,
    **extra: Any,
) -> JSONResponse:
    """Build the problem+json response; the one constructor every handler uses."""
    body = Problem(
        type=_TYPE_BASE + slug if slug != "about:blank" else slug,
        title=title,
        status=status,
        detail=detail,
        instance=instance,
        **extra,
    )
    return JSONResponse(
        jsonable_encoder(body.model_dump(exclude_none=True)), status_code=status, media_type=PROBLEM_JSON
    )


def problem_body(status: int, slug: str, message: str, *, code: str, instance: str) -> bytes:
    """A problem+json body for code that answers below FastAPI (ASGI middleware), shaped as above."""
    body = Problem(
        type=_TYPE_BASE + slug, title=message, status=status, detail=message, instance=instance, code=code
    )
    return json.dumps(body.model_dump(exclude_none=True), ensure_ascii=False).encode("utf-8")


_LOCATIONS = frozenset({"body", "query", "path", "header", "cookie"})


def field_error(err: dict[str, Any], message: str) -> dict[str, Any]:
    """One entry of a problem's ``errors``, readable by clients of either convention.

    It names the input's ``field`` (dotted, without the request part it came in), a stable
    ``code`` and the ``message`` in the caller's language, and keeps ``loc``/``msg`` as FastAPI
    spells them.
    """
    loc = [part for part in err.get("loc", ()) if part is not None]
    if not loc and err.get("field"):
        loc = str(err["field"]).split(".")
    parts = list(loc[1:] if loc and loc[0] in _LOCATIONS else loc)
    return {
        **err,
        "loc": loc,
        "field": ".".join(str(part) for part in parts),
        "msg": message,
        "message": message,
    }


def request_language(request: Request) -> str:
    """The language of the answer: the signed-in person's choice, else the ``Accept-Language``."""
    actor = getattr(request.state, "actor", None)
    chosen = getattr(actor, "language", None)
    return str(chosen) if chosen else negotiate(request.headers.get("accept-language"))


def _domain_problem(request: Request, exc: DomainError) -> JSONResponse:
    """A domain refusal in the caller's language; 401s carry the ``WWW-Authenticate`` challenge."""
    language = request_language(request)
    extra: dict[str, Any] = {**exc.members, "code": exc.code}
    if exc.errors:
        extra["errors"] = [
            field_error(
                err,
                err.get("msg")
                or translate(
                    str(err.get("code", exc.code)), language, **{**exc.params, **err.get("params", {})}
                ),
            )
            for err in exc.errors
        ]
    response = problem_response(
        exc.status,
        exc.slug,
        translate(exc.code, language, **exc.params),
        exc.message(language),
        instance=request.url.path,
        **extra,
    )
    if isinstance(exc, Unauthenticated):
        challenge = 'Bearer realm="lendhub"'
        if exc.code in ("auth.token_expired", "auth.token_invalid", "auth.token_revoked"):
            challenge += ', error="invalid_token"'
        response.headers["WWW-Authenticate"] = challenge
    retry_after = getattr(exc, "retry_after", None)  # AccountLocked, TooManyRequests
    if isinstance(retry_after, int):
        response.headers["Retry-After"] = str(retry_after)
    return response


_CONNECTOR_STATUS: list[tuple[type[ConnectorError], int, str]] = [
    (NotFound, 404, "vendor-not-found"),
    (InvalidRequest, 422, "vendor-rejected-request"),
    (AuthError, 502, "vendor-auth-failed"),
    (QuotaExhausted, 502, "vendor-quota-exhausted"),
    (TransientError, 503, "vendor-unavailable"),
    (PermanentError, 502, "vendor-error"),
]


def _connector_problem(request: Request, exc: ConnectorError) -> JSONResponse:
    status, slug = next(
        ((status, slug) for cls, status, slug in _CONNECTOR_STATUS if isinstance(exc, cls)),
        (502, "vendor-error"),
    )
    headers_extra: dict[str, Any] = {"error_class": exc.error_class}
    if exc.connector:
        headers_extra["connector"] = exc.connector
    response = problem_response(
        status, slug, "Connector error", exc.message, instance=request.url.path, **headers_extra
    )
    retry_after = getattr(exc, "retry_after", None)
    if status == 503 and retry_after:
        response.headers["Retry-After"] = str(max(1, round(retry_after)))
    return response


def _routes(routes: Iterable[Any]) -> Iterator[Any]:
    for route in routes:
        nested = getattr(route, "original_router", None)  # FastAPI >= 0.165 wraps included routers
        if nested is not None:
            yield from _routes(nested.routes)
        else:
            yield route


def allowed_methods(routes: Iterable[Any], path: str) -> list[str]:
    """Every method some route serves at ``path``: Starlette's own 405 names only the first route's."""
    methods: set[str] = set()
    for route in _routes(routes):
        regex, served = getattr(route, "path_regex", None), getattr(route, "methods", None)
        if regex is not None and served and regex.match(path):
            methods |= set(served)
    if methods:
        methods.add("OPTIONS")
    return sorted(methods)


def install_problem_handlers(app: FastAPI) -> None:
    """Register the exception handlers that turn every error into problem+json."""

    @app.exception_handler(ProblemError)
    async def _problem(request: Request, exc: ProblemError) -> JSONResponse:
        return problem_response(
            exc.status, exc.slug, exc.title, exc.detail, instance=request.url.path, **exc.extra
        )

    @app.exception_handler(StarletteHTTPException)
    async def _http(request: Request, exc: StarletteHTTPException) -> Response:
        if exc.status_code == 405:
            allow = ", ".join(allowed_methods(request.app.routes, request.url.path))
            if request.method == "OPTIONS" and allow:
                return Response(status_code=204, headers={"Allow": allow})
            exc.headers = {**(exc.headers or {}), "Allow": allow}
        title = {404: "Not found", 405: "Method not allowed"}.get(exc.status_code, "HTTP error")
        response = problem_response(
            exc.status_code, "about:blank", title, str(exc.detail), instance=request.url.path
        )
        for name, value in (exc.headers or {}).items():
            response.headers[name] = value
        return response

    @app.exception_handler(RequestValidationError)
    async def _validation(request: Request, exc: RequestValidationError) -> JSONResponse:
        errors = [
            field_error(
                {
                    "loc": list(err.get("loc", ())),
                    "type": err.get("type", ""),
                    "code": f"validation.{err.get('type', '')}",
                },
                err.get("msg", ""),
            )
            for err in exc.errors()
        ]
        return problem_response(
            422,
            "validation-error",
            "Request is not valid",
            f"{len(errors)} field(s) failed validation",
            instance=request.url.path,
            errors=errors,
        )

    @app.exception_handler(DomainError)
    async def _domain(request: Request, exc: DomainError) -> JSONResponse:
        return _domain_problem(request, exc)

    @app.exception_handler(ConnectorError)
    async def _connector(request: Request, exc: ConnectorError) -> JSONResponse:
        return _connector_problem(request, exc)

    @app.exception_handler(Exception)
    async def _unexpected(request: Request, exc: Exception) -> JSONResponse:
        log.exception("unhandled error on %s %s", request.method, request.url.path)
        return problem_response(
            500, "internal-error", "Internal error", "see the server log", instance=request.url.path
        )
