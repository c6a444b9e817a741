"""Application forms as data: a JSON Schema and CEL rules per product, published as immutable versions.

``definition`` checks a form before it is published; ``service`` publishes and reads versions;
``validation.validate_submission`` is what the applications context calls on every submission.

The names below are loaded on first use, so importing the table (``core.models`` does, in every
process) does not load the expression and JSON Schema engines.
"""

from __future__ import annotations

from importlib import import_module
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from .definition import RULE_VARIABLES, definition_errors
    from .models import FormVersion
    from .service import form_version, publish_form
    from .validation import RuleContext, validate_submission

__all__ = [
    "RULE_VARIABLES",
    "FormVersion",
    "RuleContext",
    "definition_errors",
    "form_version",
    "publish_form",
    "validate_submission",
]

_WHERE = {
    "RULE_VARIABLES": "definition",
    "definition_errors": "definition",
    "FormVersion": "models",
    "form_version": "service",
    "publish_form": "service",
    "RuleContext": "validation",
    "validate_submission": "validation",
}


def __getattr__(name: str) -> Any:
    if name not in _WHERE:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    return getattr(import_module(f".{_WHERE[name]}", __name__), name)
