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

Cost (``bench/expressions.py`` measures it): compiling is a parse and a tree walk; evaluating
walks the tree in Python, tens of microseconds for a form rule — compile once, evaluate often.
"""

from .errors import ExpressionError
from .expression import MAX_LENGTH, Expression, compile_expression

__all__ = ["MAX_LENGTH", "Expression", "ExpressionError", "compile_expression"]
