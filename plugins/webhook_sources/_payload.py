"""Reading verified bodies: JSON objects, dotted paths, and the values that order events.

Failures raise :class:`Unparsable` naming the field, never quoting the payload.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

from plugins.sdk import Unparsable

__all__ = ["dig", "json_object", "to_datetime", "to_version"]

_MISSING = object()


def json_object(raw: bytes | str, *, what: str = "the body") -> dict[str, Any]:
    """Parse ``raw`` as a JSON object."""
    try:
        value = json.loads(raw)
    except (ValueError, UnicodeDecodeError):
        raise Unparsable(f"{what} is not JSON") from None
    if not isinstance(value, dict):
        raise Unparsable(f"{what} is not a JSON object")
    return value


def dig(payload: Mapping[str, Any], path: str | None) -> Any:
    """The value at a dotted ``path`` (``data.id``); ``None`` when absent or ``path`` is ``None``."""
    if not path:
        return None
    value: Any = payload
    for part in path.split("."):
        if not isinstance(value, Mapping) or part not in value:
            return None
        value = value[part]
    return value


def to_datetime(value: Any) -> datetime | None:
    """An ISO 8601 string, or Unix seconds / milliseconds, as an aware UTC datetime; else ``None``."""
    if isinstance(value, bool) or value is None:
        return None
    if isinstance(value, int | float) or (isinstance(value, str) and value.isascii() and value.isdigit()):
        number = float(value)
        # Anything past the year 5000 in seconds is a millisecond timestamp.
        seconds = number / 1000 if number > 1e11 else number
        try:
            return datetime.fromtimestamp(seconds, UTC)
        except (OverflowError, OSError, ValueError):
            return None
    if isinstance(value, str):
        try:
            parsed = datetime.fromisoformat(value.strip())
        except ValueError:
            return None
        return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)
    return None


def to_version(value: Any, *, field: str) -> int | None:
    """An integer ordering events of one object: an integer as is, a time as epoch milliseconds.

    Raises:
        Unparsable: ``value`` is present but neither.
    """
    if value is None:
        return None
    if isinstance(value, str) and value.isascii() and value.lstrip("-").isdigit() and len(value) < 20:
        value = int(value)
    if isinstance(value, int) and not isinstance(value, bool):
        # The version is stored in a 64-bit column.
        if not -(2**63) <= value < 2**63:
            raise Unparsable(f"{field} does not fit in 64 bits")
        return value
    when = to_datetime(value)
    if when is None:
        raise Unparsable(f"{field} is neither an integer nor a timestamp")
    return int(when.timestamp() * 1000)
