"""How every command prints: tables, ``--json``, ISO-8601 UTC times, secrets shown once.

Listings are aligned tables with headers, one thing is a table of fields (name, value), and
``--json`` prints either as JSON instead; a secret is printed once and marked as such.

Tables go through rich: bold headers and colour on a terminal, plain aligned text when piped
(rich detects it), never wrapped mid-value. JSON is indented, keeps Chinese readable and writes
times as ``2026-12-06T13:41:07Z``, the same form the tables use.
"""

from __future__ import annotations

import json
import shutil
import sys
from collections.abc import Callable, Iterable, Sequence
from datetime import UTC, datetime
from typing import Any, TypeVar

import click
from pydantic import BaseModel
from rich import box
from rich.console import Console
from rich.table import Table

__all__ = [
    "echo_fields",
    "echo_json",
    "echo_listing",
    "echo_secret",
    "echo_table",
    "iso",
    "json_option",
    "yes_no",
]

M = TypeVar("M", bound=BaseModel)


def iso(value: datetime | None) -> str:
    """A time as ISO 8601 in UTC with a ``Z`` (``-`` for none): one form in tables and JSON."""
    if value is None:
        return "-"
    return value.astimezone(UTC).isoformat(timespec="seconds").replace("+00:00", "Z")


def _default(value: Any) -> Any:
    if isinstance(value, datetime):
        return iso(value)
    return str(value)


def _normalise(value: Any) -> Any:
    if isinstance(value, datetime):
        return iso(value)
    if isinstance(value, str) and len(value) >= 19 and value[10] == "T" and value[:4].isdigit():
        try:  # a time already rendered by pydantic (…+00:00): the same form as everywhere else
            return iso(datetime.fromisoformat(value))
        except ValueError:
            return value
    if isinstance(value, dict):
        return {k: _normalise(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_normalise(v) for v in value]
    return value


def echo_json(data: Any) -> None:
    """Print ``data`` as indented JSON, Chinese left readable, times as ISO 8601 UTC."""
    click.echo(json.dumps(_normalise(data), indent=2, ensure_ascii=False, default=_default))


def _console() -> Console:
    stream = sys.stdout  # where click.echo writes too (and what click's test runner captures)
    width = shutil.get_terminal_size((200, 24)).columns if stream.isatty() else 10_000
    return Console(file=stream, width=width, highlight=False, soft_wrap=False)


def _cell(value: Any) -> str:
    if isinstance(value, datetime):
        return iso(value)
    if value is None:
        return "-"
    return str(_normalise(value))


def echo_table(columns: Sequence[str], rows: Iterable[Sequence[Any]], *, empty: str | None = None) -> None:
    """An aligned table with a header row; ``empty`` is said instead when there are no rows."""
    cells = [[_cell(cell) for cell in row] for row in rows]
    if not cells and empty:
        click.echo(empty)
        return
    table = Table(box=box.SIMPLE_HEAD, show_edge=False, pad_edge=False, header_style="bold")
    for column in columns:
        table.add_column(column, overflow="fold", no_wrap=True)
    for row in cells:
        table.add_row(*row)
    _console().print(table)


def echo_listing(
    items: Sequence[M],
    *,
    as_json: bool,
    columns: Sequence[str],
    row: Callable[[M], Sequence[Any]],
    empty: str,
) -> None:
    """A listing of read models: JSON with ``--json``, else a table with one ``row(item)`` each."""
    if as_json:
        echo_json([item.model_dump(mode="json") for item in items])
    else:
        echo_table(columns, [row(item) for item in items], empty=empty)


def echo_fields(fields: Iterable[tuple[str, Any]]) -> None:
    """One thing as aligned ``name  value`` lines: a table of two columns without a header."""
    table = Table(box=None, show_header=False, show_edge=False, pad_edge=False)
    table.add_column(style="bold", no_wrap=True)
    table.add_column(overflow="fold", no_wrap=True)
    for name, value in fields:
        table.add_row(name, _cell(value))
    _console().print(table)


def yes_no(value: bool) -> str:
    """A flag in a table cell."""
    return "yes" if value else "no"


def echo_secret(label: str, value: str, advice: str) -> None:
    """Print a secret once, marked as such, with what to do with it (the advice goes to stderr)."""
    click.echo(f"{label} (shown only now): {value}")
    click.echo(f"secret shown once — {advice}", err=True)


def json_option(function: Callable[..., Any]) -> Callable[..., Any]:
    """The ``--json`` flag every command that prints data takes."""
    return click.option("--json", "as_json", is_flag=True, help="Print JSON instead of a table.")(function)
