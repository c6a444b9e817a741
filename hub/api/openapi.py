"""The OpenAPI document declares the answers the API really gives, errors included.

FastAPI documents only the success answer and a 422 as ``application/json``
``HTTPValidationError``; LendHub answers every error as ``application/problem+json`` (RFC 9457),
and routes give 401, 403, 404, 409, 415 and 422 as their locks and rules require. This rewrites
each ``/api`` operation's responses once, when the document is first built, so clients and
contract tests (schemathesis) see what is served.
"""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI
from fastapi.openapi.utils import get_openapi

from schemas.api.common import Problem

__all__ = ["install_openapi"]

PROBLEM_JSON = "application/problem+json"
_CHANGES = {"post", "put", "patch", "delete"}
_TEXT = {
    "400": "Refused before routing (an unknown Host header)",
    "401": "No credentials, or none that can be trusted",
    "403": "Authenticated, but without the permission this operation needs",
    "404": "No such resource, or one outside the caller's scope",
    "405": "Method not allowed on this path (Allow lists those that are)",
    "409": "A conflict with the resource's current state",
    "415": "A change that is not application/json",
    "422": "The request does not validate; errors name each field",
    "500": "An unexpected error; nothing is partly done",
}


_WEBHOOK_REFUSALS = {
    "400": "Verified but unusable: unparsable, undecryptable, or nested too deep",
    "401": "Signature or timestamp refused",
    "404": "No such source, or no enabled instance of it",
    "413": "The body is over the limit",
    "500": "An unexpected error; nothing was stored",
}


def _problem(description: str) -> dict[str, Any]:
    return {
        "description": description,
        "content": {PROBLEM_JSON: {"schema": {"$ref": "#/components/schemas/Problem"}}},
    }


def _codes(path: str, method: str, open_route: bool) -> list[str]:
    codes = ["400", "401", "422", "500"]  # an open route (sign-in) refuses bad credentials with 401
    if not open_route:
        codes.append("403")
    if "{" in path or method in _CHANGES:
        codes += ["404", "409"]
    if method in _CHANGES:
        codes.append("415")
    return sorted(codes)


def install_openapi(app: FastAPI, *, open_paths: set[tuple[str, str]]) -> None:
    """Make ``app.openapi()`` declare problem+json errors on every ``/api`` operation.

    Args:
        app: the application.
        open_paths: ``(method, path)`` pairs that need no credentials (no 401/403 declared).
    """

    def openapi() -> dict[str, Any]:
        if app.openapi_schema:
            return app.openapi_schema
        document = get_openapi(title=app.title, version=app.version, routes=app.routes)
        schemas = document.setdefault("components", {}).setdefault("schemas", {})
        schemas["Problem"] = Problem.model_json_schema(ref_template="#/components/schemas/{model}")
        for name in ("HTTPValidationError", "ValidationError"):
            schemas.pop(name, None)
        for path, operations in document.get("paths", {}).items():
            for method, operation in operations.items():
                responses = operation.setdefault("responses", {})
                if path.startswith("/webhooks/"):
                    responses.pop("422", None)  # refusals are these, decided before any parsing
                    for code, text in _WEBHOOK_REFUSALS.items():
                        responses[code] = _problem(text)
                    continue
                if not path.startswith("/api/"):
                    continue
                is_open = (method.upper(), path) in open_paths
                for code in _codes(path, method, is_open):
                    responses[code] = _problem(_TEXT[code])
        app.openapi_schema = document
        return document

    app.openapi = openapi  # type: ignore[method-assign]
