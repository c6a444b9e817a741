"""Render ``docs/plugin_hooks.md`` from the docstrings in ``core.hookspecs``.

The docstrings are the single source of truth, as in pytest; this module only reformats them.
A test compares the committed file with ``render_markdown()``; regenerate it with::

    python -m plugins.hookdocs > docs/plugin_hooks.md
"""

from __future__ import annotations

import inspect
import re
import sys
from collections.abc import Callable
from typing import Any

from core import hookspecs

__all__ = ["REQUIRED_SECTIONS", "hook_functions", "render_hook", "render_markdown"]

REQUIRED_SECTIONS = ("Args:", "Returns:", "Calling convention:", "Example:", "Added in:")
"""Sections every hook docstring must have; a meta-test enforces it."""

_SECTION = re.compile(r"^(Args|Returns|Calling convention|Example|Added in|Changed in|Raises):\s*(.*)$")
_GROUPS = (
    ("Registration hooks", hookspecs.REGISTRATION_HOOKS),
    ("Decision hooks", hookspecs.DECISION_HOOKS),
    ("Event hooks", hookspecs.EVENT_HOOKS),
    ("Inbound webhook hooks", hookspecs.INBOUND_HOOKS),
)


def hook_functions() -> dict[str, Callable[..., Any]]:
    """Every hook specification in ``core.hookspecs``, by name, in definition order."""
    marker = f"{hookspecs.PROJECT_NAME}_spec"
    return {
        name: value for name, value in vars(hookspecs).items() if callable(value) and hasattr(value, marker)
    }


def _signature(name: str, function: Callable[..., Any]) -> str:
    return f"{name}({', '.join(inspect.signature(function).parameters)})"


def _render_section(title: str, rest: str, body: list[str]) -> list[str]:
    text = inspect.cleandoc("\n".join(body)) if body else ""
    if title == "Example":
        return [f"**{title}:**", "", "```python", text, "```", ""]
    if title == "Args":
        items: list[str] = []
        for line in text.splitlines():
            match = re.match(r"^(\w+):\s*(.*)$", line)
            if match:
                items.append(f"- `{match.group(1)}`: {match.group(2)}")
            elif items:
                items[-1] += " " + line.strip()
        return [f"**{title}:**", "", *items, ""]
    joined = " ".join(part for part in [rest, *text.splitlines()] if part.strip())
    return [f"**{title}:** {joined.strip()}", ""]


def render_hook(name: str, function: Callable[..., Any]) -> str:
    """One hook as a markdown section: signature heading, options, prose and sections."""
    opts = getattr(function, f"{hookspecs.PROJECT_NAME}_spec", {})
    flags = [flag for flag in ("firstresult", "historic") if opts.get(flag)]
    lines = [f"### {_signature(name, function)}", ""]
    if flags:
        lines += [f"*Options: {', '.join(flags)}*", ""]
    doc = inspect.getdoc(function) or ""
    section: tuple[str, str] | None = None
    body: list[str] = []
    for line in doc.splitlines():
        match = _SECTION.match(line)
        if match:
            if section:
                lines += _render_section(*section, body)
            section, body = (match.group(1), match.group(2)), []
        elif section:
            body.append(line)
        else:
            lines.append(line)
    if section:
        lines += _render_section(*section, body)
    return "\n".join(lines).rstrip() + "\n"


def render_markdown() -> str:
    """The whole hook reference, grouped by kind, as committed in ``docs/plugin_hooks.md``."""
    functions = hook_functions()
    module_doc = inspect.getdoc(hookspecs) or ""
    parts = [
        "# Plugin hooks",
        "",
        "<!-- Generated from core/hookspecs.py by `python -m plugins.hookdocs > docs/plugin_hooks.md`;"
        " do not edit by hand. -->",
        "",
        f"Hook API version: **{hookspecs.HOOK_API_VERSION}**. Declare the version your plugin was "
        f"written against with `{hookspecs.HOOK_API_ATTRIBUTE} = "
        f'"{hookspecs.HOOK_API_VERSION}"` in the module your entry point names.',
        "",
        module_doc.split("\n", 1)[1].strip() if "\n" in module_doc else "",
        "",
    ]
    for title, names in _GROUPS:
        parts += [f"## {title}", ""]
        parts += [render_hook(name, functions[name]) for name in names]
    return "\n".join(parts).rstrip() + "\n"


if __name__ == "__main__":
    sys.stdout.write(render_markdown())
