"""Compiling an expression once (parse, check every name) and evaluating it many times.

Parsing is cel-python's (its Lark grammar); nothing here parses text or calls ``eval``. After the
parse, the tree is walked once to refuse, with the position, any variable that is not declared
and any function or method that is not known (``core.expressions.functions``), so a typo in a
rule is found when the rule is published, not when the first applicant hits it. Evaluation uses
cel-python's tree interpreter (``InterpretedRunner``), not its transpiler, which would turn the
tree into Python source and ``exec`` it.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

import celpy
import lark
from celpy.celparser import CELParseError
from celpy.evaluation import CELEvalError, CELUnsupportedError

from .errors import ExpressionError
from .functions import FUNCTIONS, KNOWN_FUNCTIONS, KNOWN_METHODS, MACROS, TYPE_NAMES
from .values import from_cel, to_cel

__all__ = ["MAX_LENGTH", "Expression", "compile_expression"]

#: Longest expression text accepted: rules are a line or three, not programs.
MAX_LENGTH = 4000

_ENVIRONMENT: celpy.Environment | None = None


def _environment() -> celpy.Environment:
    global _ENVIRONMENT
    if _ENVIRONMENT is None:  # building the Lark parser takes ~0.1 s: once per process, on first use
        _ENVIRONMENT = celpy.Environment(runner_class=celpy.InterpretedRunner)
    return _ENVIRONMENT


def _token_name(token: Any) -> str:
    return str(token.value) if isinstance(token, lark.Token) else str(token)


def _position(node: Any) -> tuple[int | None, int | None]:
    if isinstance(node, lark.Token):
        return node.line, node.column
    meta = getattr(node, "meta", None)
    if meta is not None and not getattr(meta, "empty", True):
        return meta.line, meta.column
    return None, None


class _Checker:
    """Walks the tree collecting free variables and refusing unknown names, functions, messages."""

    def __init__(self, declared: Iterable[str]) -> None:
        self.declared = set(declared)
        self.used: set[str] = set()

    def check(self, node: Any, bound: frozenset[str] = frozenset()) -> None:
        if not isinstance(node, lark.Tree):
            return
        kind = node.data
        children = node.children
        if kind in ("ident", "dot_ident"):
            self._variable(children[0], bound)
        elif kind in ("ident_arg", "dot_ident_arg"):
            name = _token_name(children[0])
            if name not in KNOWN_FUNCTIONS:
                self._refuse("expressions.unknown_function", f"no function named {name!r}", children[0])
            for child in children[1:]:
                self.check(child, bound)
        elif kind == "member_dot":
            self.check(children[0], bound)
        elif kind == "member_dot_arg":
            self._method(node, bound)
        elif kind == "member_object":
            self._refuse(
                "expressions.unsupported", "message construction (Name{field: value}) is not supported", node
            )
        else:
            for child in children:
                self.check(child, bound)

    def _variable(self, token: Any, bound: frozenset[str]) -> None:
        name = _token_name(token)
        if name in bound or name in TYPE_NAMES:
            return
        if name not in self.declared:
            known = ", ".join(sorted(self.declared)) or "none"
            self._refuse("expressions.undeclared", f"{name!r} is not declared (declared: {known})", token)
        self.used.add(name)

    def _method(self, node: lark.Tree[Any], bound: frozenset[str]) -> None:
        target, token, *rest = node.children
        name = _token_name(token)
        self.check(target, bound)  # left to right: the first problem in the text is the one reported
        if name not in KNOWN_METHODS:
            self._refuse("expressions.unknown_function", f"no method named {name!r}", token)
        arguments = rest[0].children if rest and isinstance(rest[0], lark.Tree) else []
        if name in MACROS:
            variable = arguments[0] if arguments else None
            if not (
                isinstance(variable, lark.Tree)
                and _token_name_of_plain_ident(variable) is not None
                and len(arguments) >= 2
            ):
                self._refuse("expressions.macro", f"{name}() takes a variable name and an expression", token)
            inner = bound | {_token_name_of_plain_ident(variable) or ""}
            for argument in arguments[1:]:
                self.check(argument, inner)
            return
        for argument in arguments:
            self.check(argument, bound)

    @staticmethod
    def _refuse(code: str, detail: str, where: Any) -> None:
        line, column = _position(where)
        name = _token_name(where) if isinstance(where, lark.Token) else None
        raise ExpressionError(code, detail, name=name, line=line, column=column)


def _token_name_of_plain_ident(tree: Any) -> str | None:
    """The name when ``tree`` is nothing but an identifier (through the grammar's unit rules)."""
    node: Any = tree
    while isinstance(node, lark.Tree) and len(node.children) == 1:
        if node.data == "ident":
            return _token_name(node.children[0])
        node = node.children[0]
    return None


def _dotted(tree: Any) -> str | None:
    """``form.income.monthly`` for a chain of field selections on a variable, else ``None``."""
    node: Any = tree
    parts: list[str] = []
    while isinstance(node, lark.Tree):
        if node.data == "member_dot":
            parts.append(_token_name(node.children[1]))
            node = node.children[0]
        elif node.data == "ident":
            parts.append(_token_name(node.children[0]))
            return ".".join(reversed(parts))
        elif len(node.children) == 1:
            node = node.children[0]
        else:
            return None
    return None


@dataclass(frozen=True)
class Expression:
    """A compiled expression: evaluate it with values for its declared names, as often as needed.

    Attributes:
        text: the source, as given.
        declared: the names (and their documented types) it was compiled against.
        names: the declared names it really uses; only these must be supplied.
    """

    text: str
    declared: Mapping[str, Any]
    names: frozenset[str]
    _program: Any = field(repr=False, compare=False)

    def evaluate(self, values: Mapping[str, Any]) -> Any:
        """The value of the expression for ``values`` (Python values, converted both ways).

        Raises:
            ExpressionError: ``expressions.missing`` naming the first (sorted) name the expression
                uses that ``values`` lacks — or the dotted member (``form.income``) a map lacks;
                ``expressions.unsupported_value`` for a value CEL cannot hold;
                ``expressions.evaluation`` for anything else that fails (division by zero …).
        """
        missing = sorted(self.names - values.keys())
        if missing:
            raise ExpressionError(
                "expressions.missing", f"no value for {', '.join(missing)}", name=missing[0]
            )
        activation = {name: to_cel(values[name], name) for name in self.names}
        try:
            result = self._program.evaluate(activation)
        except CELEvalError as error:
            raise _evaluation_error(error) from error
        except (CELUnsupportedError, RecursionError, TypeError, ValueError, ArithmeticError) as error:
            raise ExpressionError("expressions.evaluation", str(error) or type(error).__name__) from error
        if isinstance(result, CELEvalError):
            raise _evaluation_error(result)
        return from_cel(result)


def _evaluation_error(error: CELEvalError) -> ExpressionError:
    detail = str(error.args[0]) if error.args else "evaluation failed"
    cause = error.args[1] if len(error.args) > 1 else None
    if cause is KeyError:
        name = _dotted(error.tree)
        if name is not None:
            return ExpressionError(
                "expressions.missing", f"no value for {name}", name=name, line=error.line, column=error.column
            )
    return ExpressionError("expressions.evaluation", detail, line=error.line, column=error.column)


def compile_expression(text: str, declared: Mapping[str, Any]) -> Expression:
    """Parse ``text`` as CEL and check it against the ``declared`` names.

    Args:
        text: the expression, e.g. ``form.amount <= product.max_amount``.
        declared: every variable the expression may use, with its type for readers
            (``Decimal``, ``dict``, ``Any`` …); the type is documentation, the value decides.

    Raises:
        ExpressionError: ``expressions.empty``, ``expressions.syntax`` (with line and column),
            ``expressions.undeclared``
            or ``expressions.unknown_function`` (with the name and its position),
            ``expressions.too_long`` or ``expressions.too_complex``.
    """
    if not isinstance(text, str) or not text.strip():
        raise ExpressionError("expressions.empty", "the expression is empty")
    if len(text) > MAX_LENGTH:
        raise ExpressionError("expressions.too_long", f"longer than {MAX_LENGTH} characters")
    environment = _environment()
    try:
        tree = environment.compile(text)
    except CELParseError as error:
        first = str(error.args[0]).splitlines()[0] if error.args else "does not parse"
        raise ExpressionError(
            "expressions.syntax",
            f"unexpected input: {first.strip()}",
            line=error.line or 1,  # Lark gives a position for every error but a lexer failure
            column=error.column or 1,
        ) from error
    except RecursionError as error:
        raise ExpressionError("expressions.too_complex", "nested too deeply") from error
    checker = _Checker(declared)
    try:
        checker.check(tree)
    except RecursionError as error:
        raise ExpressionError("expressions.too_complex", "nested too deeply") from error
    program = environment.program(tree, functions=dict(FUNCTIONS))
    return Expression(text=text, declared=dict(declared), names=frozenset(checker.used), _program=program)
