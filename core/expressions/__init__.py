"""The one safe expression language of LendHub: CEL (Common Expression Language) via cel-python.

Business people write rules as data — a form's cross-field checks, an approval flow's routing
conditions — and LendHub must run them without running their code. CEL is made for that: no
loops, no side effects, no I/O, evaluation time bounded by the size of the expression and its
inputs. cel-python (Apache-2.0, cloud-custodian) parses it; LendHub adds a declared-names check at
compile time, one rule for numbers (ints and doubles mix, Decimal compares as a double, see
``values`` and ``functions``) and three date functions for lending rules.

    >>> from decimal import Decimal
    >>> rule = compile_expression("amount <= 500000 && term in [12, 24]", {"amount": Decimal, "term": int})
    >>> rule.evaluate({"amount": Decimal("300000.00"), "term": 12})
    True

Errors: every problem is an :class:`ExpressionError` with a ``code`` (``expressions.syntax``,
``expressions.undeclared``, ``expressions.unknown_function``, ``expressions.missing``,
``expressions.evaluation`` …) and, where known, the name and the line and column.

Cost (``bench/expressions.py`` measures it): compiling a typical three-clause form rule and
evaluating it each take about half a millisecond on the 2-core CI machine — cel-python walks the
tree in pure Python and re-evaluates ``typing`` casts as it goes — against a fraction of a
microsecond for the same comparison as a Python lambda. Right for rules run once per submission
or decision (a four-rule form checks in about 2 ms); wrong for a hot loop. Compile once (form
versions are cached compiled), evaluate as needed.
"""

from .errors import ExpressionError
from .expression import MAX_LENGTH, Expression, compile_expression

__all__ = ["MAX_LENGTH", "Expression", "ExpressionError", "compile_expression"]
