"""Required-before-state gates (准入条件), as data: what an application must have before it enters a state.

A gate is configured per product as ``{"before": "submitted", "gate": "documents", "params":
{"doc_types": ["id_card_front"]}}``: before the application enters ``before``, the gate *kind*
``gate`` checks it with ``params`` and says what is missing. Every transition runs the gates of
its target state (``core.applications.service.transition``); any unmet gate refuses the move
with a 409 whose ``unmet`` member lists each gate and what it misses, machine-readable, so a
client turns it into a to-do list.

Kinds are registered in a :class:`GateRegistry` that the hub composes (``hub.crm``), as it
composes the 360° view, so this context never imports the contexts that provide kinds:

* ``required_fields`` (here): form fields that must be filled, ``{"fields": ["income.monthly"]}``.
* ``documents`` (the documents context plugs its check in through :func:`documents_gate`):
  document types the application or its customer must hold, ``{"doc_types": ["id_card_front"]}``.

A configured kind that is not registered in the running process fails closed: the gate is
unmet (``applications.gate_unavailable``) rather than skipped.
"""

from __future__ import annotations

import re
from collections.abc import Awaitable, Callable, Collection, Container, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Protocol

from sqlalchemy.ext.asyncio import AsyncSession

from .models import Application

__all__ = [
    "APPLICATION_FIELDS",
    "DocumentsGate",
    "GateKind",
    "GateRegistry",
    "GateSpec",
    "MissingDocuments",
    "RequiredFields",
    "Unmet",
    "documents_gate",
    "filled_view",
]

#: Fields of the application itself that a form (and a gate) may name as if they were form values.
APPLICATION_FIELDS = ("amount", "term_months", "repayment_method", "purpose")
FIELD_PATH = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*(\.[A-Za-z_0-9][A-Za-z0-9_]*)*$")
DOC_TYPE = re.compile(r"^[a-z][a-z0-9_]{0,49}$")
MAX_ITEMS = 50


@dataclass(frozen=True)
class GateSpec:
    """One configured gate: before entering ``before``, check kind ``gate`` with ``params``."""

    before: str
    gate: str
    params: Mapping[str, Any]

    def as_json(self) -> dict[str, Any]:
        """The gate as the API shows and takes it."""
        return {"before": self.before, "gate": self.gate, "params": dict(self.params)}


@dataclass(frozen=True)
class Unmet:
    """A gate that does not pass: which, before what, and what is missing (field paths, doc types …)."""

    gate: str
    before: str
    missing: tuple[str, ...]

    def as_json(self) -> dict[str, Any]:
        """The ``unmet`` entry of a refusal."""
        return {"gate": self.gate, "before": self.before, "missing": list(self.missing)}


class GateKind(Protocol):
    """A kind of gate: checks its configuration, and finds what an application misses.

    Attributes:
        name: the kind's name in configurations (``documents``).
    """

    name: str

    def params_errors(self, params: Mapping[str, Any]) -> list[dict[str, Any]]:
        """Field errors of a configuration's ``params`` (``field`` relative to params); empty if fine."""
        ...

    async def missing(
        self, session: AsyncSession, application: Application, params: Mapping[str, Any]
    ) -> list[str]:
        """What ``application`` lacks for this gate (empty when it passes). Reads only."""
        ...

    def error(self, item: str) -> dict[str, Any]:
        """The field error that names one missing item (``{"field", "code", "params"}``)."""
        ...


def filled_view(application: Application) -> dict[str, Any]:
    """The form values with the application's own fields (amount, term …) where they are set."""
    view = dict(application.values or {})
    for name in APPLICATION_FIELDS:
        value = getattr(application, name)
        if value is not None:
            view[name] = value
    return view


def _blank(value: Any) -> bool:
    return value is None or (
        isinstance(value, str | list | dict) and not (value.strip() if isinstance(value, str) else value)
    )


def _lookup(values: Mapping[str, Any], path: str) -> Any:
    node: Any = values
    for part in path.split("."):
        if isinstance(node, Mapping):
            node = node.get(part)
        elif isinstance(node, list) and part.isdigit() and int(part) < len(node):
            node = node[int(part)]
        else:
            return None
    return node


def _names_errors(
    params: Mapping[str, Any], key: str, pattern: re.Pattern[str], code: str
) -> list[dict[str, Any]]:
    names = params.get(key)
    if set(params) != {key}:
        return [
            {"field": name, "code": "applications.gate_param_unknown"} for name in sorted(set(params) - {key})
        ] or [{"field": key, "code": code, "params": {"max": MAX_ITEMS}}]
    if not isinstance(names, list) or not 1 <= len(names) <= MAX_ITEMS:
        return [{"field": key, "code": code, "params": {"max": MAX_ITEMS}}]
    errors = [
        {"field": f"{key}.{index}", "code": code, "params": {"max": MAX_ITEMS}}
        for index, name in enumerate(names)
        if not isinstance(name, str) or not pattern.match(name) or len(name) > 200
    ]
    if not errors and len(set(names)) != len(names):
        errors.append({"field": key, "code": "applications.gate_param_duplicate"})
    return errors


class RequiredFields:
    """``required_fields``: form fields (dotted paths) that must hold a value, not blank or empty.

    Paths name form values (``income.monthly``, ``guarantors.0.name``) or the application's own
    ``amount``, ``term_months``, ``repayment_method`` and ``purpose``.
    """

    name = "required_fields"

    def params_errors(self, params: Mapping[str, Any]) -> list[dict[str, Any]]:
        """``{"fields": [path, …]}``: 1 to 50 distinct dotted paths."""
        return _names_errors(params, "fields", FIELD_PATH, "applications.gate_fields_param")

    async def missing(
        self, session: AsyncSession, application: Application, params: Mapping[str, Any]
    ) -> list[str]:
        """The paths whose value is absent, null, blank text or an empty list or object."""
        view = filled_view(application)
        return [path for path in params["fields"] if _blank(_lookup(view, path))]

    def error(self, item: str) -> dict[str, Any]:
        """The missing field names the error, as in a form problem: ``values.income.monthly``."""
        field = item if item.split(".")[0] in APPLICATION_FIELDS else f"values.{item}"
        return {"field": field, "code": "applications.gate_field_missing", "params": {"path": item}}


MissingDocuments = Callable[[AsyncSession, Application, Sequence[str]], Awaitable[list[str]]]
"""``(session, application, doc_types) -> the doc types it lacks``: what the documents context provides."""


class DocumentsGate:
    """``documents``: document types the application (or its customer) must hold.

    The check itself belongs to the documents context; the hub builds this kind with it
    (:func:`documents_gate`), so applications never import documents.
    """

    name = "documents"

    def __init__(self, missing: MissingDocuments, known_types: Callable[[], Container[str]] | None = None):
        self._missing = missing
        self._known = known_types

    def params_errors(self, params: Mapping[str, Any]) -> list[dict[str, Any]]:
        """``{"doc_types": [code, …]}``: 1 to 50 distinct type codes, known ones when a list is given."""
        errors = _names_errors(params, "doc_types", DOC_TYPE, "applications.gate_doc_types_param")
        if errors or self._known is None:
            return errors
        known = self._known()
        return [
            {
                "field": f"doc_types.{index}",
                "code": "applications.gate_doc_type_unknown",
                "params": {"doc_type": code},
            }
            for index, code in enumerate(params["doc_types"])
            if code not in known
        ]

    async def missing(
        self, session: AsyncSession, application: Application, params: Mapping[str, Any]
    ) -> list[str]:
        """The types the documents context reports missing, in the configured order."""
        return list(await self._missing(session, application, list(params["doc_types"])))

    def error(self, item: str) -> dict[str, Any]:
        """Documents are one field of the application; the type is a parameter."""
        return {
            "field": "documents",
            "code": "applications.gate_document_missing",
            "params": {"doc_type": item},
        }


def documents_gate(
    missing: MissingDocuments, known_types: Callable[[], Container[str]] | None = None
) -> DocumentsGate:
    """The ``documents`` kind around the documents context's check (and, optionally, its type list)."""
    return DocumentsGate(missing, known_types)


class GateRegistry:
    """The gate kinds a process knows; built by the hub at composition, read-only after.

    Args:
        kinds: the kinds to start with (``required_fields`` is added unless one of that name is given).
    """

    def __init__(self, kinds: Iterable[GateKind] = ()) -> None:
        self._kinds: dict[str, GateKind] = {}
        for kind in kinds:
            self.register(kind)
        if RequiredFields.name not in self._kinds:
            self.register(RequiredFields())

    def register(self, kind: GateKind) -> None:
        """Add a kind; a second kind of the same name is refused (two providers must not alternate)."""
        if kind.name in self._kinds:
            raise ValueError(f"a gate kind named {kind.name!r} is already registered")
        self._kinds[kind.name] = kind

    def __contains__(self, name: object) -> bool:
        return name in self._kinds

    def names(self) -> list[str]:
        """The registered kinds, sorted."""
        return sorted(self._kinds)

    def spec_errors(self, index: int, spec: GateSpec, states: Collection[str]) -> list[dict[str, Any]]:
        """Field errors of the ``index``-th configured gate (``gates[2].params.doc_types``)."""
        at = f"gates[{index}]"
        errors: list[dict[str, Any]] = []
        if spec.before not in states:
            errors.append(
                {
                    "field": f"{at}.before",
                    "code": "applications.gate_state",
                    "params": {"known": ", ".join(states)},
                }
            )
        kind = self._kinds.get(spec.gate)
        if kind is None:
            errors.append(
                {
                    "field": f"{at}.gate",
                    "code": "applications.gate_unknown",
                    "params": {"known": ", ".join(self.names())},
                }
            )
            return errors
        for error in kind.params_errors(spec.params):
            errors.append({**error, "field": f"{at}.params.{error['field']}"})
        return errors

    async def unmet(
        self, session: AsyncSession, application: Application, specs: Iterable[GateSpec]
    ) -> tuple[list[Unmet], list[dict[str, Any]]]:
        """The gates of ``specs`` that ``application`` does not pass, and a field error per missing item."""
        unmet: list[Unmet] = []
        errors: list[dict[str, Any]] = []
        for spec in specs:
            kind = self._kinds.get(spec.gate)
            if kind is None:  # configured, but nobody provides it in this process: fail closed
                unmet.append(Unmet(spec.gate, spec.before, ()))
                errors.append(
                    {"field": "gates", "code": "applications.gate_unavailable", "params": {"gate": spec.gate}}
                )
                continue
            missing = await kind.missing(session, application, spec.params)
            if missing:
                unmet.append(Unmet(spec.gate, spec.before, tuple(missing)))
                errors += [kind.error(item) for item in missing]
        return unmet, errors
