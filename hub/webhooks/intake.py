"""What ingestion keeps of a request: credential headers masked, events checked and made storable.

Kept apart from the service so the rules a partner's input must meet are in one short place.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from typing import Any

from pydantic_core import to_jsonable_python

from core.webhooks.repository import NewInboxEvent
from plugins.sdk import Unparsable, WebhookEvent

__all__ = ["MASKED_HEADERS", "MAX_JSON_DEPTH", "checked_events", "mask_headers", "nested_too_deep"]

MASKED_HEADERS = frozenset(
    {"authorization", "proxy-authorization", "cookie", "x-api-key", "x-auth-token", "x-access-token"}
)
"""Headers whose values are credentials: masked in storage and output, sealed for replays."""

_MAX_ID = 200

MAX_JSON_DEPTH = 64
"""Deepest nesting of objects and arrays a JSON body may have. Real partner payloads stay under
ten; a deeper body is refused before any recursive parser (the source's, the sealer's) meets it:
at 255 levels JSON encoders give up, at about a thousand Python's parser raises RecursionError."""

_JSON_STRING = re.compile(rb'"[^"\\]*(?:\\.[^"\\]*)*"')  # unrolled: no alternation per character
_NOT_BRACKETS = bytes(set(range(256)) - set(b"[]{}"))
_OPEN = frozenset(b"[{")


def nested_too_deep(body: bytes, limit: int = MAX_JSON_DEPTH) -> bool:
    """Whether a body that looks like JSON nests objects and arrays deeper than ``limit``.

    It runs on every webhook, so the work is done in C where it can be: a body with no more
    brackets than the limit cannot nest deeper (most partner bodies stop there); otherwise
    strings are cut out by a regular expression and only the brackets left are walked.
    """
    if body.lstrip()[:1] not in (b"{", b"["):
        return False
    if body.count(b"{") + body.count(b"[") <= limit:
        return False
    depth = 0
    for byte in _JSON_STRING.sub(b"", body).translate(None, _NOT_BRACKETS):
        depth = depth + 1 if byte in _OPEN else depth - 1
        if depth > limit:
            return True
    return False


def mask_headers(headers: Mapping[str, str]) -> tuple[dict[str, str], dict[str, str]]:
    """Headers with credentials masked, and the credential headers themselves (to seal)."""
    shown: dict[str, str] = {}
    hidden: dict[str, str] = {}
    for name, value in headers.items():
        if name.lower() in MASKED_HEADERS:
            shown[name] = "***"
            hidden[name] = value
        else:
            shown[name] = value
    return shown, hidden


def _storable(value: Any) -> Any:
    """JSON data PostgreSQL can store: NUL characters (legal JSON, refused by JSONB) become U+FFFD.

    The raw body keeps the exact bytes, so nothing is lost for a replay or an audit.
    """
    if isinstance(value, str):
        return value.replace("\x00", "\ufffd")
    if isinstance(value, dict):
        return {_storable(k): _storable(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_storable(v) for v in value]
    return value


def _key_problem(what: str, value: str | None, *, required: bool = True) -> str | None:
    if value is None:
        return f"event {what} is missing" if required else None
    if not value and required:
        return f"event {what} is empty"
    if len(value) > _MAX_ID or "\x00" in value:
        return f"event {what} must be at most {_MAX_ID} characters, without NUL"
    return None


def checked_events(events: Sequence[WebhookEvent]) -> list[NewInboxEvent]:
    """The events as the inbox stores them; an id or type the inbox cannot key on is unparsable."""
    checked: list[NewInboxEvent] = []
    for event in events:
        problem = (
            _key_problem("id", event.event_id)
            or _key_problem("type", event.event_type)
            or _key_problem("object id", event.object_id, required=False)
        )
        if problem:
            raise Unparsable(problem)
        if not isinstance(event.payload, Mapping):
            raise Unparsable(f"the event's payload is a JSON {type(event.payload).__name__}, not an object")
        payload = _storable(to_jsonable_python(dict(event.payload), fallback=str))
        checked.append(
            NewInboxEvent(
                event_id=event.event_id,
                event_type=event.event_type,
                payload=payload,
                object_id=event.object_id,
                object_version=event.object_version,
                occurred_at=event.occurred_at,
            )
        )
    return checked
