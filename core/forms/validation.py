"""``validate_submission``: the one check every application's form values go through.

The applications context calls it; its signature is a contract::

    validate_submission(form_version, values, *, context) -> None

It raises :class:`core.errors.Invalid` (``forms.submission_invalid``) whose ``errors`` hold one
entry per problem, ``{"field", "code", "params"}``:

* per JSON Schema violation: ``field`` is the dotted path of the value (``income.monthly``,
  ``guarantors.0.name``; a missing required property is named itself), ``code`` is
  ``forms.required``, ``forms.type``, ``forms.minimum`` … (``forms.invalid_value`` for keywords
  without their own code);
* per failed rule — rules run only when the schema is satisfied, so they see well-typed values —
  ``field`` is the rule's field, ``code`` its ``message_code`` (default ``forms.rule_failed``)
  with ``params.rule`` its name. A rule that cannot be evaluated is an entry too:
  ``forms.rule_value_missing`` (``params.name``: the value it needed — guard optional fields
  with ``!has(form.x) || …``), ``forms.rule_not_boolean`` or ``forms.rule_error``.

Form versions are immutable, so each is compiled once per process and kept (LRU, 256 versions).
"""

from __future__ import annotations

import re
from collections import OrderedDict
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from typing import Any

from jsonschema.exceptions import ValidationError
from referencing.exceptions import Unresolvable

from core.db import utcnow
from core.errors import Invalid
from core.expressions import ExpressionError

from .definition import CompiledForm, compile_form
from .models import FormVersion

__all__ = ["RuleContext", "compiled", "validate_submission"]

_CACHE: OrderedDict[str, CompiledForm] = OrderedDict()
_CACHE_SIZE = 256

_CODES = {
    "required": "forms.required",
    "type": "forms.type",
    "enum": "forms.enum",
    "const": "forms.const",
    "minimum": "forms.minimum",
    "maximum": "forms.maximum",
    "exclusiveMinimum": "forms.exclusive_minimum",
    "exclusiveMaximum": "forms.exclusive_maximum",
    "multipleOf": "forms.multiple_of",
    "minLength": "forms.min_length",
    "maxLength": "forms.max_length",
    "pattern": "forms.pattern",
    "format": "forms.format",
    "minItems": "forms.min_items",
    "maxItems": "forms.max_items",
    "uniqueItems": "forms.unique_items",
    "additionalProperties": "forms.unexpected",
    "unevaluatedProperties": "forms.unexpected",
}


@dataclass(frozen=True)
class RuleContext:
    """What rules see besides the form: the product, the applicant and the business date.

    Attributes:
        product: the product's terms (build it with :meth:`for_product`).
        applicant: facts about the applicant the caller has (``age``, ``birth_date`` …).
        today: the business date of the submission (default: today in UTC).
    """

    product: Mapping[str, Any]
    applicant: Mapping[str, Any] = field(default_factory=dict)
    today: date = field(default_factory=lambda: utcnow().date())

    @staticmethod
    def product_values(product: Any) -> dict[str, Any]:
        """The ``product`` rule variable of a :class:`core.products.Product` row."""
        return {
            "code": product.code,
            "min_amount": product.min_amount,
            "max_amount": product.max_amount,
            "terms_months": list(product.terms_months),
            "annual_rate": product.annual_rate,
            "repayment_methods": list(product.repayment_methods),
            "grace_periods": product.grace_periods,
        }

    @classmethod
    def for_product(
        cls, product: Any, *, applicant: Mapping[str, Any] | None = None, today: date | None = None
    ) -> RuleContext:
        """The context for submissions to ``product`` (a ``Product`` row)."""
        return cls(
            product=cls.product_values(product),
            applicant=dict(applicant or {}),
            today=today or utcnow().date(),
        )


def compiled(form_version: FormVersion) -> CompiledForm:
    """The compiled form of a version, from the per-process cache (versions never change)."""
    key = form_version.id
    if key in _CACHE:
        _CACHE.move_to_end(key)
        return _CACHE[key]
    form = compile_form(form_version.json_schema, form_version.rules)
    _CACHE[key] = form
    if len(_CACHE) > _CACHE_SIZE:
        _CACHE.popitem(last=False)
    return form


def _numbers_as_decimals(value: Any) -> Any:
    """Every JSON number as a Decimal (a CEL double), so ``8000`` and ``8000.5`` behave alike."""
    if isinstance(value, bool):
        return value
    if isinstance(value, int | float):
        return Decimal(repr(value)) if isinstance(value, float) else Decimal(value)
    if isinstance(value, Mapping):
        return {key: _numbers_as_decimals(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_numbers_as_decimals(item) for item in value]
    return value


def _path(parts: Any) -> str:
    return ".".join(str(part) for part in parts)


def _schema_entries(error: ValidationError) -> list[dict[str, Any]]:
    keyword = str(error.validator)
    where = list(error.absolute_path)
    instance = error.instance
    value: Any = error.validator_value
    if keyword == "required" and isinstance(instance, Mapping):
        return [
            {"field": _path([*where, name]), "code": "forms.required", "params": {}}
            for name in value
            if name not in instance
        ]
    if keyword in ("additionalProperties", "unevaluatedProperties") and isinstance(instance, Mapping):
        schema = error.schema if isinstance(error.schema, Mapping) else {}
        known = set(schema.get("properties", {}))
        patterns = [re.compile(p) for p in schema.get("patternProperties", {})]
        extra = [k for k in instance if k not in known and not any(p.search(k) for p in patterns)]
        return [{"field": _path([*where, name]), "code": "forms.unexpected", "params": {}} for name in extra]
    params: dict[str, Any] = {"keyword": keyword}
    if keyword in ("minimum", "maximum", "exclusiveMinimum", "exclusiveMaximum", "multipleOf"):
        params["limit"] = str(value)
    elif keyword in ("minLength", "maxLength", "minItems", "maxItems"):
        params["limit"] = value
    elif keyword == "type":
        params["expected"] = ", ".join(value) if isinstance(value, list) else str(value)
    elif keyword == "enum":
        params["allowed"] = ", ".join(str(v) for v in value)[:300]
    elif keyword in ("pattern", "format", "const"):
        params["expected"] = str(value)[:200]
    return [{"field": _path(where), "code": _CODES.get(keyword, "forms.invalid_value"), "params": params}]


def _rule_entries(
    form: CompiledForm, values: Mapping[str, Any], context: RuleContext
) -> list[dict[str, Any]]:
    variables = {
        "form": _numbers_as_decimals(values),
        "product": context.product,
        "applicant": context.applicant,
        "today": context.today,
    }
    entries = []
    for rule in form.rules:
        params: dict[str, Any] = {"rule": rule.name}
        try:
            result = rule.expression.evaluate(variables)
        except ExpressionError as error:
            if error.code == "expressions.missing":
                code, params["name"] = "forms.rule_value_missing", error.name or ""
            else:
                code, params["detail"] = "forms.rule_error", error.detail[:300]
            entries.append({"field": rule.field, "code": code, "params": params})
            continue
        if not isinstance(result, bool):
            entries.append({"field": rule.field, "code": "forms.rule_not_boolean", "params": params})
        elif not result:
            entries.append({"field": rule.field, "code": rule.message_code, "params": params})
    return entries


def validate_submission(
    form_version: FormVersion, values: Mapping[str, Any], *, context: RuleContext
) -> None:
    """Check ``values`` against ``form_version``'s schema, then its rules; return if all hold.

    Args:
        form_version: the published version the submission is made against.
        values: the submitted values (parsed JSON: dicts, lists, str, int, float, bool, None).
        context: the product, applicant and business date the rules see.

    Raises:
        Invalid: ``forms.submission_invalid`` with one entry per problem (see the module docstring).
    """
    form = compiled(form_version)
    try:
        errors = [entry for error in form.validator.iter_errors(values) for entry in _schema_entries(error)]
    except Unresolvable as error:  # definition_errors resolves every $ref at publish; a guard all the same
        raise Invalid("forms.schema_broken", detail=str(error)[:200]) from error
    unique = list({(e["field"], e["code"]): e for e in errors}.values())
    if not unique:
        unique = _rule_entries(form, values, context)
    if unique:
        raise Invalid("forms.submission_invalid", errors=unique)
