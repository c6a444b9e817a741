"""The one error an expression raises, with a stable code and where in the text it went wrong."""

from __future__ import annotations

from typing import Any

__all__ = ["ExpressionError"]


class ExpressionError(ValueError):
    """An expression that cannot be compiled, or a value it cannot be evaluated with.

    Callers turn it into their own refusal (a form rule's field error, a flow's publish error):
    ``code`` is a catalog key (``expressions.syntax``), ``params`` fills its message.

    Attributes:
        code: ``expressions.empty``, ``expressions.syntax`` (does not parse),
            ``expressions.undeclared`` (a name that is not declared),
            ``expressions.unknown_function``, ``expressions.macro``, ``expressions.too_long``,
            ``expressions.too_complex`` (nested too deep), ``expressions.missing`` (a name the
            expression uses got no value), ``expressions.unsupported_value`` (a value of a type
            CEL has no equivalent for) and ``expressions.evaluation`` (division by zero, no such
            overload, overflow …).
        name: the name at fault (a variable or function, dotted for a missing member:
            ``form.income.monthly``), when there is one.
        line: 1-based line of the position in the text, when known.
        column: 1-based column, when known.
        detail: the underlying message (cel-python's, in English), for logs and developers.
    """

    def __init__(
        self,
        code: str,
        detail: str,
        *,
        name: str | None = None,
        line: int | None = None,
        column: int | None = None,
    ) -> None:
        where = f" at line {line}, column {column}" if line is not None and column is not None else ""
        super().__init__(f"{code}: {detail}{where}")
        self.code = code
        self.detail = detail
        self.name = name
        self.line = line
        self.column = column

    @property
    def params(self) -> dict[str, Any]:
        """The values a message about this error is formatted with (no ``None``)."""
        values = {"name": self.name, "line": self.line, "column": self.column, "detail": self.detail}
        return {key: value for key, value in values.items() if value is not None}
