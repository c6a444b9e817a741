"""Reading a flow document from the YAML or JSON a credit manager wrote, keeping where each part was.

The checks of ``core.flows.definition`` name what is wrong by path (``stages[1].next[0].when``);
people fix files by line. :func:`load_source` keeps the line of every mapping key and sequence
item, and :func:`with_lines` adds it to each error, so an error reads ``stages[1].next[0].when
(line 23)``.

A flow file comes from people, sometimes pasted from elsewhere, and is read on the server, so the
reader refuses what YAML allows but a flow never needs: anchors and aliases (one alias can expand
to gigabytes — "billion laughs"), duplicate keys (YAML keeps the last silently, so the reviewer
reads one value and the engine runs another), tags beyond the safe ones, more than one document
and files over :data:`MAX_SOURCE_BYTES`.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any, NoReturn

import yaml
from yaml.events import AliasEvent, NodeEvent
from yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode

from core.errors import Invalid

__all__ = ["MAX_SOURCE_BYTES", "LineMap", "Spot", "load_source", "with_lines"]

#: The largest flow file read; fifty stages written out generously stay far below it.
MAX_SOURCE_BYTES = 256 * 1024


@dataclass(frozen=True)
class Spot:
    """Where the scalar at a path starts and ends (0-based, as YAML marks are), and its style."""

    line: int
    column: int
    end_line: int
    style: str | None


@dataclass
class LineMap:
    """The 1-based line of every path of a document, and where its scalars were written.

    Attributes:
        lines: path → line of the mapping key or sequence item.
        scalars: path → where the scalar value was written (to place a condition's own
            line and column in the file).
        text: the source's lines, to measure a literal block's indentation.
    """

    lines: dict[str, int] = field(default_factory=dict)
    scalars: dict[str, Spot] = field(default_factory=dict)
    text: list[str] = field(default_factory=list)

    def line(self, path: str) -> int | None:
        """The line of ``path``, or of its nearest parent that has one (``None`` for none)."""
        while path:
            if path in self.lines:
                return self.lines[path]
            path = _parent(path)
        return None

    def place(self, path: str, line: int, column: int) -> tuple[int, int] | None:
        """A position inside the scalar at ``path`` (1-based, in its text) as a position in the file.

        Exact for one-line scalars and literal blocks (``|``); the scalar's start for folded and
        multi-line quoted ones, whose text no longer has the file's line breaks.
        """
        spot = self.scalars.get(path)
        if spot is None:
            return None
        if spot.style in (None, "", "'", '"') and spot.line == spot.end_line:
            quote = 1 if spot.style in ("'", '"') else 0
            return spot.line + 1, spot.column + quote + column
        if spot.style == "|":
            # YAML takes a block's indentation from its first line that is not blank.
            body = next((t for t in self.text[spot.line + 1 : spot.end_line + 1] if t.strip()), "")
            return spot.line + 1 + line, len(body) - len(body.lstrip(" ")) + column
        return spot.line + 1, spot.column + 1


def _parent(path: str) -> str:
    if path.endswith("]"):
        return path[: path.rindex("[")]
    cut = path.rfind(".")
    return path[:cut] if cut > 0 else ""


def _error(path: str, code: str, **params: Any) -> dict[str, Any]:
    return {"field": path, "code": code, "params": params}


def _refuse(*errors: dict[str, Any]) -> NoReturn:
    raise Invalid("flows.invalid", errors=list(errors), count=len(errors))


class _AliasFound(yaml.MarkedYAMLError):
    pass


class _Loader(yaml.SafeLoader):
    """The safe loader that refuses an anchor or an alias before anything is expanded."""

    def compose_node(self, parent: Node | None, index: int) -> Node | None:
        event: Any = self.peek_event()  # type: ignore[no-untyped-call]
        if isinstance(event, AliasEvent) or (isinstance(event, NodeEvent) and event.anchor is not None):
            mark: Any = event.start_mark  # the pure-Python loader's Mark; the stubs allow libyaml's too
            raise _AliasFound(problem="anchors and aliases are not allowed", problem_mark=mark)
        return super().compose_node(parent, index)


def _walk(loader: _Loader, node: Node, path: str, found: LineMap, duplicates: list[dict[str, Any]]) -> None:
    if isinstance(node, MappingNode):
        seen: set[Any] = set()
        for key_node, value_node in node.value:
            key = loader.construct_object(key_node, deep=True)
            name = str(key)
            at = f"{path}.{name}" if path else name
            line = key_node.start_mark.line + 1
            if key in seen:
                duplicates.append(_error(at, "flows.duplicate_key", key=name[:100], line=line))
                continue
            seen.add(key)
            found.lines[at] = line
            _walk(loader, value_node, at, found, duplicates)
    elif isinstance(node, SequenceNode):
        for index, item in enumerate(node.value):
            at = f"{path}[{index}]"
            found.lines[at] = item.start_mark.line + 1
            _walk(loader, item, at, found, duplicates)
    elif isinstance(node, ScalarNode) and path:
        found.scalars[path] = Spot(
            node.start_mark.line, node.start_mark.column, node.end_mark.line, node.style
        )


def _syntax(exc: yaml.YAMLError, text: str) -> dict[str, Any]:
    if isinstance(exc, yaml.MarkedYAMLError):
        mark = exc.problem_mark or exc.context_mark
        line, column = (mark.line + 1, mark.column + 1) if mark else (1, 1)
        detail = exc.problem or exc.context or "cannot be read"
    elif isinstance(exc, yaml.reader.ReaderError):
        before = text[: exc.position]
        line, column = before.count("\n") + 1, exc.position - (before.rfind("\n") + 1) + 1
        detail = f"character {exc.character!r} is not allowed"
    else:
        line, column, detail = 1, 1, str(exc)
    code = "flows.source_aliases" if isinstance(exc, _AliasFound) else "flows.source_syntax"
    return _error("", code, line=line, column=column, detail=str(detail)[:200])


def _compose(text: str) -> tuple[_Loader, Node | None]:
    loader = _Loader(text)
    try:
        return loader, loader.get_single_node()
    except BaseException:
        loader.dispose()
        raise


def _yaml(text: str) -> tuple[Any, LineMap]:
    found = LineMap(text=text.splitlines())
    duplicates: list[dict[str, Any]] = []
    try:
        loader, node = _compose(text)
        try:
            if node is None:
                return None, found
            _walk(loader, node, "", found, duplicates)
            if duplicates:
                _refuse(*duplicates)
            return loader.construct_document(node), found
        finally:
            loader.dispose()
    except yaml.YAMLError as exc:
        _refuse(_syntax(exc, text))
    except RecursionError:
        _refuse(_error("", "flows.source_too_deep"))


class _DuplicateKey(ValueError):
    def __init__(self, key: str) -> None:
        super().__init__(key)
        self.key = key


def _unique(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key, value in pairs:
        if key in out:
            raise _DuplicateKey(key)
        out[key] = value
    return out


def _json_lines(text: str) -> tuple[LineMap, list[dict[str, Any]]]:
    """Lines for JSON, read as the YAML it nearly is; none when YAML reads it otherwise."""
    found = LineMap(text=text.splitlines())
    duplicates: list[dict[str, Any]] = []
    try:
        loader, node = _compose(text)
        try:
            if node is not None:
                _walk(loader, node, "", found, duplicates)
        finally:
            loader.dispose()
    except (yaml.YAMLError, RecursionError):
        return LineMap(), []
    return found, duplicates


def _json(text: str) -> tuple[Any, LineMap]:
    try:
        document = json.loads(text, object_pairs_hook=_unique)
    except json.JSONDecodeError as exc:
        _refuse(_error("", "flows.source_syntax", line=exc.lineno, column=exc.colno, detail=exc.msg[:200]))
    except _DuplicateKey as exc:
        duplicates = _json_lines(text)[1]
        _refuse(*(duplicates or [_error("", "flows.duplicate_key", key=exc.key[:100])]))
    except RecursionError:
        _refuse(_error("", "flows.source_too_deep"))
    return document, _json_lines(text)[0]


def load_source(text: str, fmt: str | None = None) -> tuple[Any, LineMap]:
    """The flow document in ``text`` and the line of each of its paths.

    Args:
        text: the file's content.
        fmt: ``"yaml"`` or ``"json"``; ``None`` guesses (JSON when the text starts with ``{``).

    Returns:
        The document (a mapping; check it with ``core.flows.versions.check``) and its
        :class:`LineMap`. JSON gets lines too, as long as YAML reads it the same way.

    Raises:
        Invalid: ``flows.invalid`` with one field error: ``flows.source_too_large``,
            ``flows.source_syntax`` (line, column, detail), ``flows.source_aliases``,
            ``flows.source_too_deep`` or ``flows.document_not_object`` — or one
            ``flows.duplicate_key`` (key, line) per repeated key.
        ValueError: ``fmt`` is neither.
    """
    size = len(text.encode("utf-8", "surrogatepass"))
    if size > MAX_SOURCE_BYTES:
        _refuse(
            _error("", "flows.source_too_large", max_kib=MAX_SOURCE_BYTES // 1024, size_kib=-(-size // 1024))
        )
    text = text.removeprefix("\ufeff")
    if fmt is None:
        fmt = "json" if text.lstrip().startswith("{") else "yaml"
    if fmt == "json":
        document, lines = _json(text)
    elif fmt == "yaml":
        document, lines = _yaml(text)
    else:
        raise ValueError(f"unknown flow source format {fmt!r}; use 'yaml' or 'json'")
    if not isinstance(document, dict):
        _refuse(_error("", "flows.document_not_object"))
    return document, lines


def with_lines(errors: Iterable[Mapping[str, Any]], line_map: LineMap) -> list[dict[str, Any]]:
    """``errors`` with ``params.line``: the line of the error's path, or of its nearest parent.

    An error about a condition that already says where in the condition it is (``line`` and
    ``column`` of the CEL text) gets that position moved into the file instead, so its message
    and its line agree.
    """
    out: list[dict[str, Any]] = []
    for error in errors:
        params = dict(error.get("params") or {})
        path = str(error.get("field", ""))
        inner = params.get("line"), params.get("column")
        placed = None
        if isinstance(inner[0], int) and isinstance(inner[1], int):
            placed = line_map.place(path, inner[0], inner[1])
            if placed is not None:
                params["line"], params["column"] = placed
        elif "line" not in params:
            line = line_map.line(path)
            if line is not None:
                params["line"] = line
        out.append({**error, "params": params})
    return out
