"""The operators and functions an expression may call: standard CEL plus three for lending rules.

Numbers. Standard CEL refuses ``1 + 2.5`` and cel-python is inconsistent about it
(``2.5 <= 3`` works, ``3 <= 2.5`` and ``12 == 12.0`` fail, ``true == 1`` is true). LendHub's rule,
the same for every operator: when an int meets a double, the int is widened to a double and the
operation is done in double (as cel-spec's heterogeneous comparisons do, extended to ``+ - * /``);
two ints stay ints (``7 / 2`` is ``3``, as in CEL); a bool is never equal to a number. ``in``
follows ``==``. So ``amount <= 500000``, ``12 in product.terms_months`` and
``applicant.age + form.term_months / 12.0 <= 65`` mean what they say.

Functions added for lending rules (all dates are timestamps, see ``core.expressions.values``):

* ``date('2026-01-31')`` — a timestamp at midnight UTC of that day.
* ``add_months(ts, n)`` — ``n`` calendar months later, month-end safe (Jan 31 + 1 → Feb 28/29).
* ``years_between(from, to)`` — whole years from ``from`` to ``to`` (an age: a birthday counts
  on the day; Feb 29 birthdays count on Mar 1 in common years).
"""

from __future__ import annotations

import calendar
import operator
from collections.abc import Callable, Mapping
from datetime import UTC, datetime
from typing import Any

import celpy.celtypes as ct
from celpy.evaluation import CELEvalError, base_functions

__all__ = ["FUNCTIONS", "KNOWN_FUNCTIONS", "KNOWN_METHODS", "MACROS", "TYPE_NAMES"]

_Number = ct.IntType | ct.UintType | ct.DoubleType


def _is_number(value: Any) -> bool:
    return isinstance(value, _Number) and not isinstance(value, ct.BoolType)


def _widen(a: Any, b: Any) -> tuple[Any, Any]:
    """Both as doubles when one is a double and the other an int; otherwise unchanged."""
    if _is_number(a) and _is_number(b) and (isinstance(a, ct.DoubleType) != isinstance(b, ct.DoubleType)):
        return ct.DoubleType(float(a)), ct.DoubleType(float(b))
    return a, b


def _arithmetic(op: Callable[[Any, Any], Any]) -> Callable[[Any, Any], Any]:
    def apply(a: Any, b: Any) -> Any:
        if isinstance(a, CELEvalError):
            return a
        if isinstance(b, CELEvalError):
            return b
        a, b = _widen(a, b)
        result = op(a, b)
        if isinstance(result, float) and not isinstance(result, ct.DoubleType):
            return ct.DoubleType(result)  # DoubleType's operators hand back a bare float
        return result

    apply.__name__ = op.__name__
    return apply


def _equal(a: Any, b: Any) -> bool:
    if isinstance(a, ct.BoolType) != isinstance(b, ct.BoolType):
        return False
    a, b = _widen(a, b)
    return bool(a == b)


def _comparison(op: Callable[[Any, Any], Any]) -> Callable[[Any, Any], Any]:
    def compare(a: Any, b: Any) -> Any:
        if isinstance(a, CELEvalError):
            return a
        if isinstance(b, CELEvalError):
            return b
        if op is operator.eq:
            return ct.BoolType(_equal(a, b))
        if op is operator.ne:
            return ct.BoolType(not _equal(a, b))
        if isinstance(a, ct.BoolType) != isinstance(b, ct.BoolType):
            raise TypeError(f"no such overload: {type(a).__name__} {op.__name__} {type(b).__name__}")
        a, b = _widen(a, b)
        return ct.BoolType(bool(op(a, b)))

    compare.__name__ = op.__name__
    return compare


def _contains(item: Any, container: Any) -> Any:
    """``item in container``: list membership by ``==`` above; map keys as CEL does."""
    if isinstance(item, CELEvalError):
        return item
    if isinstance(container, CELEvalError):
        return container
    if isinstance(container, ct.ListType):
        found = False
        for element in container:
            try:
                found = _equal(item, element)
            except TypeError:
                continue
            if found:
                break
        return ct.BoolType(found)
    return base_functions["_in_"](item, container)


def _timestamp(value: Any, what: str) -> datetime:
    if not isinstance(value, datetime):
        raise TypeError(f"{what} needs a timestamp, not {type(value).__name__}")
    return value


def _date(text: Any) -> ct.TimestampType:
    if not isinstance(text, str):
        raise TypeError("date() needs a 'YYYY-MM-DD' string")
    try:
        day = datetime.strptime(str(text), "%Y-%m-%d")
    except ValueError as exc:
        raise ValueError(f"date({text!r}): expected YYYY-MM-DD") from exc
    return ct.TimestampType(day.replace(tzinfo=UTC))


def _add_months(value: Any, months: Any) -> ct.TimestampType:
    start = _timestamp(value, "add_months()")
    if not _is_number(months) or float(months) != int(months):
        raise TypeError("add_months() needs a whole number of months")
    index = start.year * 12 + (start.month - 1) + int(months)
    year, month = divmod(index, 12)
    if not 1 <= year <= 9999:
        raise ValueError("add_months(): the date leaves the calendar")
    day = min(start.day, calendar.monthrange(year, month + 1)[1])
    moved = datetime(
        year, month + 1, day, start.hour, start.minute, start.second, start.microsecond, tzinfo=start.tzinfo
    )
    return ct.TimestampType(moved)


def _years_between(first: Any, second: Any) -> ct.IntType:
    start, end = _timestamp(first, "years_between()").date(), _timestamp(second, "years_between()").date()
    sign = 1
    if end < start:
        start, end, sign = end, start, -1
    years = end.year - start.year - ((end.month, end.day) < (start.month, start.day))
    return ct.IntType(sign * years)


#: Overrides of cel-python's operators and the added functions, passed to every program.
FUNCTIONS: Mapping[str, Callable[..., Any]] = {
    "_+_": _arithmetic(operator.add),
    "_-_": _arithmetic(operator.sub),
    "_*_": _arithmetic(operator.mul),
    "_/_": _arithmetic(operator.truediv),
    "_<_": _comparison(operator.lt),
    "_<=_": _comparison(operator.le),
    "_>_": _comparison(operator.gt),
    "_>=_": _comparison(operator.ge),
    "_==_": _comparison(operator.eq),
    "_!=_": _comparison(operator.ne),
    "_in_": _contains,
    "date": _date,
    "add_months": _add_months,
    "years_between": _years_between,
}

#: Comprehension macros: ``list.all(x, predicate)``; their first argument binds a name.
MACROS = frozenset({"all", "exists", "exists_one", "map", "filter"})

#: Type names usable as values (``type(x) == int``).
TYPE_NAMES = frozenset(
    {"int", "uint", "double", "bool", "string", "bytes", "list", "map", "null_type", "type"}
)

#: Names callable as ``f(x)``: CEL's standard functions and conversions, ``has``/``dyn``, ours.
KNOWN_FUNCTIONS = frozenset(
    {
        "size",
        "int",
        "uint",
        "double",
        "string",
        "bool",
        "bytes",
        "duration",
        "timestamp",
        "type",
        "has",
        "dyn",
        "matches",
        "contains",
        "startsWith",
        "endsWith",
        "date",
        "add_months",
        "years_between",
    }
)

#: Names callable as ``x.f(…)``: string and timestamp methods, the macros, ours.
KNOWN_METHODS = frozenset(
    {
        "size",
        "contains",
        "startsWith",
        "endsWith",
        "matches",
        "getDate",
        "getDayOfMonth",
        "getDayOfWeek",
        "getDayOfYear",
        "getFullYear",
        "getMonth",
        "getHours",
        "getMilliseconds",
        "getMinutes",
        "getSeconds",
        "add_months",
        "years_between",
    }
    | MACROS
)
