"""Import lines laid out the way ruff settles them by default, for the parts of the scaffold that vary.

A vendor's first ``ruff check`` and ``ruff format --check`` on a fresh package should find nothing
to change. Most of each template is fixed text already in that shape; the few lines whose content
or length varies with the vendor's name and capability are rendered here, split where ruff's
formatter would split them once they pass 88 characters (a name may be 40 characters long):
imports in isort's order by type (constants, classes, the rest), one name a line when too long.
"""

from __future__ import annotations

from collections.abc import Iterable

__all__ = ["LINE_LENGTH", "assignment", "class_header", "from_import", "sorted_names"]

LINE_LENGTH = 88
"""ruff's default line length: the one a new project without configuration gets."""


def _kind(name: str) -> int:
    if len(name) > 1 and name.isupper():
        return 0  # CONSTANT
    if name[:1].isupper():
        return 1  # Class
    return 2  # function or variable


def sorted_names(names: Iterable[str]) -> list[str]:
    """``names`` in the order isort's ``order-by-type`` puts them, each once."""
    return sorted(set(names), key=lambda name: (_kind(name), name.lower(), name))


def from_import(module: str, names: Iterable[str]) -> str:
    """``from module import names`` on one line, or split one name a line when it is too long."""
    ordered = sorted_names(names)
    line = f"from {module} import {', '.join(ordered)}"
    if len(line) <= LINE_LENGTH:
        return line
    members = "".join(f"    {name},\n" for name in ordered)
    return f"from {module} import (\n{members})"


def assignment(target: str, value: str, indent: str = "") -> str:
    """``target = value``, with the value in parentheses on a line of its own when too long."""
    line = f"{indent}{target} = {value}"
    if len(line) <= LINE_LENGTH:
        return line
    return f"{indent}{target} = (\n{indent}    {value}\n{indent})"


def class_header(name: str, bases: Iterable[str]) -> str:
    """``class name(bases):``, with the bases on a line of their own when too long."""
    listed = ", ".join(bases)
    line = f"class {name}({listed}):"
    if len(line) <= LINE_LENGTH:
        return line
    return f"class {name}(\n    {listed}\n):"
