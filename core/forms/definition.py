"""A form definition — JSON Schema plus CEL rules — checked whole before it is published.

Publishing is where a broken form must stop, not at the first applicant: the schema is checked
against the draft 2020-12 metaschema, every ``$ref`` must point inside the schema (nothing is
fetched from anywhere), and every rule is compiled against the rule variables, so an unknown
name or a syntax error is refused with a field error pointing at ``rules[2].expression``.

Rule variables (documented in ``docs/products.md``):

``form``
    the submitted values, as the schema describes them. **Every number in it is a CEL double**
    (an applicant's ``8000`` and ``8000.5`` behave alike, and ``/`` never truncates).
``product``
    the product: ``code``, ``min_amount``, ``max_amount`` (doubles), ``terms_months`` (ints),
    ``annual_rate`` (a fraction, double), ``repayment_methods`` (strings), ``grace_periods``.
``applicant``
    what the caller knows of the applicant, e.g. ``age`` and ``birth_date`` (a timestamp at
    midnight UTC), supplied by the applications context.
``today``
    the business date of the submission, a timestamp at midnight UTC.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date
from typing import Any

import referencing
import referencing.exceptions
from jsonschema import Draft202012Validator
from jsonschema.exceptions import SchemaError
from referencing.jsonschema import DRAFT202012

from core.expressions import Expression, ExpressionError, compile_expression
from core.i18n import catalog

__all__ = [
    "MAX_RULES",
    "MAX_SCHEMA_BYTES",
    "RULE_VARIABLES",
    "CompiledForm",
    "Rule",
    "compile_form",
    "definition_errors",
]

#: The names a rule may use, with their types (for readers; see the module docstring).
RULE_VARIABLES: dict[str, Any] = {"form": dict, "product": dict, "applicant": dict, "today": date}
MAX_RULES = 100
MAX_SCHEMA_BYTES = 64 * 1024
RULE_NAME = re.compile(r"^[a-z][a-z0-9_]{0,63}$")
RULE_FIELD = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*(\.[A-Za-z_][A-Za-z0-9_]*)*$")
MESSAGE_CODE = re.compile(r"^forms\.[a-z][a-z0-9_]*$")  # forms messages take no values but the rule's
RULE_KEYS = frozenset({"name", "field", "expression", "message_code"})
_BASE = "urn:lendhub:form"


@dataclass(frozen=True)
class Rule:
    """One compiled rule: when ``expression`` is false, ``field`` gets ``message_code``."""

    name: str
    field: str
    expression: Expression
    message_code: str


@dataclass(frozen=True)
class CompiledForm:
    """A form ready to validate submissions: its schema validator and compiled rules."""

    validator: Draft202012Validator
    rules: tuple[Rule, ...]


def _error(field: str, code: str, **params: Any) -> dict[str, Any]:
    return {"field": field, "code": code, "params": params}


def _refs(node: Any, path: str) -> Iterator[tuple[str, str]]:
    if isinstance(node, dict):
        for key, value in node.items():
            if key in ("$ref", "$dynamicRef") and isinstance(value, str):
                yield f"{path}.{key}", value
            else:
                yield from _refs(value, f"{path}.{key}")
    elif isinstance(node, list):
        for index, value in enumerate(node):
            yield from _refs(value, f"{path}.{index}")


def _schema_errors(schema: Any) -> list[dict[str, Any]]:
    if not isinstance(schema, dict) or schema.get("type") != "object":
        return [_error("json_schema", "forms.schema_not_object")]
    if len(json.dumps(schema, ensure_ascii=False).encode("utf-8")) > MAX_SCHEMA_BYTES:
        return [_error("json_schema", "forms.schema_too_large", limit=MAX_SCHEMA_BYTES)]
    declared = schema.get("$schema")
    if declared is not None and declared != "https://json-schema.org/draft/2020-12/schema":
        return [_error("json_schema.$schema", "forms.schema_dialect")]
    try:
        Draft202012Validator.check_schema(schema)
    except SchemaError as error:
        where = ".".join(["json_schema", *(str(part) for part in error.absolute_path)])
        return [_error(where, "forms.schema_invalid", detail=error.message[:300])]
    resolver = (
        referencing.Registry().with_resource(_BASE, DRAFT202012.create_resource(schema)).resolver(_BASE)
    )
    errors = []
    for where, ref in _refs(schema, "json_schema"):
        if not ref.startswith("#"):
            errors.append(_error(where, "forms.schema_ref", ref=ref[:200]))
            continue
        try:
            resolver.lookup(ref)
        except referencing.exceptions.Unresolvable:
            errors.append(_error(where, "forms.schema_ref", ref=ref[:200]))
    return errors


def _rule_errors(index: int, rule: Any, seen: set[str]) -> list[dict[str, Any]]:
    at = f"rules[{index}]"
    if not isinstance(rule, dict):
        return [_error(at, "forms.rule_shape")]
    errors = [_error(f"{at}.{key}", "forms.rule_unknown_key") for key in sorted(set(rule) - RULE_KEYS)]
    name, field, code = rule.get("name"), rule.get("field"), rule.get("message_code")
    if not isinstance(name, str) or not RULE_NAME.match(name):
        errors.append(_error(f"{at}.name", "forms.rule_name"))
    elif name in seen:
        errors.append(_error(f"{at}.name", "forms.rule_name_duplicate", name=name))
    else:
        seen.add(name)
    if not isinstance(field, str) or not RULE_FIELD.match(field):
        errors.append(_error(f"{at}.field", "forms.rule_field"))
    if code is not None and (
        not isinstance(code, str) or not MESSAGE_CODE.match(code) or code not in catalog("en")
    ):
        errors.append(
            _error(f"{at}.message_code", "forms.unknown_message_code", message_code=str(code)[:100])
        )
    expression = rule.get("expression")
    if not isinstance(expression, str):
        errors.append(_error(f"{at}.expression", "expressions.empty"))
    else:
        try:
            compile_expression(expression, RULE_VARIABLES)
        except ExpressionError as error:
            errors.append(_error(f"{at}.expression", error.code, **error.params))
    return errors


def definition_errors(json_schema: Any, rules: Any) -> list[dict[str, Any]]:
    """Everything wrong with a form definition, as field errors (empty when it can be published)."""
    errors = _schema_errors(json_schema)
    if not isinstance(rules, list):
        return [*errors, _error("rules", "forms.rules_not_list")]
    if len(rules) > MAX_RULES:
        return [*errors, _error("rules", "forms.rules_too_many", limit=MAX_RULES)]
    seen: set[str] = set()
    for index, rule in enumerate(rules):
        errors += _rule_errors(index, rule, seen)
    return errors


def compile_form(json_schema: dict[str, Any], rules: list[dict[str, Any]]) -> CompiledForm:
    """The validator and compiled rules of a definition that :func:`definition_errors` accepted."""
    validator = Draft202012Validator(json_schema, format_checker=Draft202012Validator.FORMAT_CHECKER)
    compiled = tuple(
        Rule(
            name=rule["name"],
            field=rule["field"],
            expression=compile_expression(rule["expression"], RULE_VARIABLES),
            message_code=rule.get("message_code") or "forms.rule_failed",
        )
        for rule in rules
    )
    return CompiledForm(validator=validator, rules=compiled)
