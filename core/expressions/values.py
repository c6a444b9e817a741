"""Python values into CEL and CEL results back, with one documented rule for money.

CEL has ``int`` (64-bit), ``double``, ``string``, ``bool``, ``null``, ``timestamp``,
``duration``, ``list`` and ``map`` — and no decimal. LendHub's rule:

* ``Decimal`` becomes a CEL **double**, for comparisons only. A double holds every decimal of up
  to 15 significant digits distinctly and in order (to the cent, amounts below
  10 000 000 000 000.00), so ``amount <= 500000`` or ``amount == 0.1`` answers exactly what the
  decimal comparison would. Money is never *computed* in an expression: schedules, fees and
  interest are Decimal code in ``core.products.schedule``; an expression only decides.
* ``int`` is a CEL int (refused outside the 64-bit range), ``float`` a double (NaN and infinities
  refused, as for Decimal), ``bool`` a bool (never a number).
* ``date`` is a timestamp at midnight UTC of that day; ``datetime`` must be timezone-aware
  (a naive one is refused: guessing its zone is the classic off-by-eight-hours bug); ``timedelta``
  is a duration.
* ``str``/``bytes``/``None``, lists and tuples, and mappings with string keys, recursively.

Results come back as the natural Python type: ``bool``, ``int``, ``float`` (a double result
is a float — never feed it to money arithmetic), ``str``, ``bytes``, ``datetime`` (aware, UTC
offset kept), ``timedelta``, ``list``, ``dict``, ``None``.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal
from typing import Any

import celpy.celtypes as ct

from .errors import ExpressionError

__all__ = ["from_cel", "to_cel"]

_INT64 = (-(2**63), 2**63 - 1)


def _unsupported(where: str, detail: str) -> ExpressionError:
    return ExpressionError("expressions.unsupported_value", detail, name=where or "value")


def to_cel(value: Any, where: str = "") -> Any:
    """``value`` as a CEL value; ``where`` (a dotted name) is used in the error for a bad one."""
    if value is None:
        return None
    if isinstance(value, bool):
        return ct.BoolType(value)
    if isinstance(value, int):
        if not _INT64[0] <= value <= _INT64[1]:
            raise _unsupported(where, "an integer outside the 64-bit range")
        return ct.IntType(value)
    if isinstance(value, Decimal | float):
        if not math.isfinite(value):
            raise _unsupported(where, "NaN or an infinity is not a number an expression can use")
        return ct.DoubleType(float(value))
    if isinstance(value, str):
        return ct.StringType(value)
    if isinstance(value, bytes):
        return ct.BytesType(value)
    if isinstance(value, datetime):
        if value.tzinfo is None or value.utcoffset() is None:
            raise _unsupported(where, "a naive datetime: give it a time zone")
        return ct.TimestampType(value)
    if isinstance(value, date):
        return ct.TimestampType(datetime.combine(value, time(0), tzinfo=UTC))
    if isinstance(value, timedelta):
        return ct.DurationType(value)
    if isinstance(value, list | tuple):
        return ct.ListType([to_cel(item, f"{where}[{i}]") for i, item in enumerate(value)])
    if isinstance(value, Mapping):
        converted = {}
        for key, item in value.items():
            if not isinstance(key, str):
                raise _unsupported(where, f"a mapping key that is not a string: {key!r}")
            converted[ct.StringType(key)] = to_cel(item, f"{where}.{key}" if where else key)
        return ct.MapType(converted)
    raise _unsupported(where, f"a {type(value).__name__}, which has no CEL equivalent")


def from_cel(value: Any) -> Any:
    """A CEL result as plain Python (see the module docstring for the types)."""
    if value is None:
        return None
    if isinstance(value, ct.BoolType):
        return bool(value)
    if isinstance(value, int):  # IntType, UintType
        return int(value)
    if isinstance(value, float):  # DoubleType, or a plain float some cel-python operators return
        return float(value)
    if isinstance(value, str):
        return str(value)
    if isinstance(value, bytes):
        return bytes(value)
    if isinstance(value, datetime):
        return datetime(
            value.year,
            value.month,
            value.day,
            value.hour,
            value.minute,
            value.second,
            value.microsecond,
            tzinfo=value.tzinfo or UTC,
        )
    if isinstance(value, timedelta):
        return timedelta(seconds=value.total_seconds())
    if isinstance(value, Mapping):
        return {from_cel(key): from_cel(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [from_cel(item) for item in value]
    return value
