"""Render ``docs/canonical_models.md`` from ``schemas.canonical``: what connectors return.

A vendor's engineer maps their API onto these models, so the reference is generated from the
models themselves (docstrings, fields, types, defaults) and a test keeps the committed file in
step. Regenerate it with::

    python -m plugins.canonicaldocs > docs/canonical_models.md
"""

from __future__ import annotations

import enum
import importlib
import inspect
import sys
import typing
from typing import Any

from pydantic import BaseModel

import schemas.canonical

__all__ = ["MODULES", "render_markdown"]

MODULES = (
    "common",
    "credit_report",
    "litigation",
    "business_registry",
    "esignature",
    "oa",
    "finance",
    "risk",
)


def _first_paragraph(doc: str | None) -> str:
    text = inspect.cleandoc(doc or "")
    return " ".join(text.split("\n\n")[0].split())


def _type_name(annotation: Any) -> str:
    text = getattr(annotation, "__name__", None) if not typing.get_args(annotation) else None
    if text is None:
        text = str(annotation).replace("typing.", "")
        for prefix in ("schemas.canonical.", "decimal.", "datetime."):
            text = text.replace(prefix, "")
        text = "".join(part.split(".")[-1] if "." in part else part for part in _split_keep(text))
    return text.replace("NoneType", "None")


def _split_keep(text: str) -> list[str]:
    parts, current = [], ""
    for char in text:
        if char in "[], |":
            parts += [current, char]
            current = ""
        else:
            current += char
    return [*parts, current]


def _model_section(model: type[BaseModel]) -> list[str]:
    lines = [f"### `{model.__name__}`", "", _first_paragraph(model.__doc__), ""]
    lines += ["| field | type | required / default | description |", "| --- | --- | --- | --- |"]
    for name, field in model.model_fields.items():
        if field.is_required():
            default = "required"
        elif field.default_factory is not None:
            default = "empty" if field.default_factory in (list, dict, tuple) else "generated"
        else:
            value = field.default.value if isinstance(field.default, enum.Enum) else field.default
            default = f"`{value!r}`"
        description = " ".join((field.description or "").split()).replace("|", "\\|")
        lines.append(f"| `{name}` | `{_type_name(field.annotation)}` | {default} | {description} |")
    return [*lines, ""]


def _enum_section(kind: type[enum.Enum]) -> list[str]:
    values = ", ".join(f"`{member.value}`" for member in kind)
    return [f"### `{kind.__name__}`", "", _first_paragraph(kind.__doc__), "", f"Values: {values}.", ""]


def render_markdown() -> str:
    """The whole reference, module by module, in a stable order."""
    lines = [
        "# Canonical models",
        "",
        "<!-- Generated from schemas/canonical by `python -m plugins.canonicaldocs > "
        "docs/canonical_models.md`; do not edit by hand. -->",
        "",
        "What connectors return, whatever the vendor. Import every name from `schemas.canonical`.",
        "",
    ]
    for module_name in MODULES:
        module = importlib.import_module(f"schemas.canonical.{module_name}")
        lines += [f"## `{module_name}`", "", _first_paragraph(module.__doc__), ""]
        for name in sorted(module.__all__):
            value = getattr(schemas.canonical, name)
            if inspect.isclass(value) and issubclass(value, BaseModel):
                lines += _model_section(value)
            elif inspect.isclass(value) and issubclass(value, enum.Enum):
                lines += _enum_section(value)
    return "\n".join(lines).rstrip() + "\n"


if __name__ == "__main__":
    sys.stdout.write(render_markdown())
