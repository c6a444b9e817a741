"""Forms as data: publishing refuses broken definitions precisely; submissions get one error per problem."""

from __future__ import annotations

import copy
from datetime import date
from decimal import Decimal

import pytest
from sqlalchemy import select

from core.access import Actor
from core.audit import AuditEntry
from core.errors import Invalid, NotFound
from core.forms import RuleContext, form_version, publish_form, validate_submission
from core.forms.models import FormVersion
from core.products import product_by_id
from core.products.rules import ProductDraft
from core.products.service import create_product

OPERATOR = Actor.operator("tester")

SCHEMA = {
    "type": "object",
    "required": ["amount", "term_months", "income"],
    "additionalProperties": False,
    "properties": {
        "amount": {"type": "number", "exclusiveMinimum": 0},
        "term_months": {"type": "integer"},
        "purpose": {"enum": ["装修", "教育", "经营"]},
        "income": {
            "type": "object",
            "required": ["monthly"],
            "properties": {"monthly": {"type": "number", "minimum": 0}, "debt": {"type": "number"}},
        },
        "email": {"type": "string", "format": "email"},
    },
}
RULES = [
    {
        "name": "amount_in_range",
        "field": "amount",
        "expression": "form.amount >= product.min_amount && form.amount <= product.max_amount",
        "message_code": "forms.amount_out_of_range",
    },
    {
        "name": "term_offered",
        "field": "term_months",
        "expression": "form.term_months in product.terms_months",
        "message_code": "forms.term_not_offered",
    },
    {
        "name": "age_at_maturity",
        "field": "term_months",
        "expression": "years_between(applicant.birth_date, add_months(today, form.term_months)) <= 65",
        "message_code": "forms.age_at_maturity",
    },
    {
        "name": "debt_to_income",
        "field": "income.debt",
        "expression": "!has(form.income.debt) || form.income.debt / form.income.monthly <= 0.5",
        "message_code": "forms.debt_to_income_too_high",
    },
]


@pytest.fixture
async def product_id(session_factory) -> str:
    draft = ProductDraft(
        code="consumer",
        name="消费贷",
        min_amount=Decimal("1000"),
        max_amount=Decimal("200000"),
        terms_months=[12, 24],
        annual_rate=Decimal("0.12"),
        repayment_methods=["equal_installment"],
    )
    async with session_factory() as session, session.begin():
        return (await create_product(session, OPERATOR, draft)).id


async def _publish(session_factory, product_id, schema=SCHEMA, rules=RULES) -> int:
    async with session_factory() as session, session.begin():
        return (await publish_form(session, OPERATOR, product_id, json_schema=schema, rules=rules)).version


async def _refusal(session_factory, product_id, schema=SCHEMA, rules=RULES) -> list[dict]:
    with pytest.raises(Invalid) as refused:
        await _publish(session_factory, product_id, schema, rules)
    assert refused.value.code == "forms.invalid"
    return refused.value.errors


# --- publishing ------------------------------------------------------------------------------


async def test_a_broken_rule_is_refused_pointing_at_its_expression(session_factory, product_id):
    rules = copy.deepcopy(RULES)
    rules[2]["expression"] = "years_between(applicant.birth_date,\n  today) <= "
    rules[3]["expression"] = "form.income.debt / form.income.monthyl <= 0.5 && incme > 0"
    errors = await _refusal(session_factory, product_id, rules=rules)
    assert [(e["field"], e["code"]) for e in errors] == [
        ("rules[2].expression", "expressions.syntax"),
        ("rules[3].expression", "expressions.undeclared"),
    ]
    assert errors[0]["params"]["line"] == 2
    assert {k: errors[1]["params"][k] for k in ("name", "line", "column")} == {
        "name": "incme",
        "line": 1,
        "column": 50,
    }


@pytest.mark.parametrize(
    ("rule", "field", "code"),
    [
        (
            {"name": "x", "field": "amount", "expression": "frob(form)"},
            "rules[0].expression",
            "expressions.unknown_function",
        ),
        ({"name": "x", "field": "amount", "expression": ""}, "rules[0].expression", "expressions.empty"),
        ({"name": "x", "field": "amount", "expression": 3}, "rules[0].expression", "expressions.empty"),
        ({"name": "X!", "field": "amount", "expression": "true"}, "rules[0].name", "forms.rule_name"),
        ({"name": "x", "field": "a..b", "expression": "true"}, "rules[0].field", "forms.rule_field"),
        (
            {"name": "x", "field": "a", "expression": "true", "when": 1},
            "rules[0].when",
            "forms.rule_unknown_key",
        ),
        (
            {"name": "x", "field": "a", "expression": "true", "message_code": "auth.forbidden"},
            "rules[0].message_code",
            "forms.unknown_message_code",
        ),
        (
            {"name": "x", "field": "a", "expression": "true", "message_code": "forms.no_such"},
            "rules[0].message_code",
            "forms.unknown_message_code",
        ),
        ("not a rule", "rules[0]", "forms.rule_shape"),
    ],
)
async def test_each_rule_problem_names_its_place(session_factory, product_id, rule, field, code):
    errors = await _refusal(session_factory, product_id, rules=[rule])
    assert (errors[0]["field"], errors[0]["code"]) == (field, code)


async def test_duplicate_rule_names_are_refused(session_factory, product_id):
    errors = await _refusal(session_factory, product_id, rules=[RULES[0], RULES[0]])
    assert [(e["field"], e["code"]) for e in errors] == [("rules[1].name", "forms.rule_name_duplicate")]


@pytest.mark.parametrize(
    ("schema", "field", "code"),
    [
        ({"type": "array"}, "json_schema", "forms.schema_not_object"),
        (
            {"type": "object", "properties": {"a": {"type": "strnig"}}},
            "json_schema.properties.a.type",
            "forms.schema_invalid",
        ),
        (
            {"type": "object", "$schema": "http://json-schema.org/draft-04/schema#"},
            "json_schema.$schema",
            "forms.schema_dialect",
        ),
        (
            {"type": "object", "properties": {"a": {"$ref": "https://example.com/a.json"}}},
            "json_schema.properties.a.$ref",
            "forms.schema_ref",
        ),
        (
            {"type": "object", "properties": {"a": {"$ref": "#/$defs/missing"}}},
            "json_schema.properties.a.$ref",
            "forms.schema_ref",
        ),
        ({"type": "object", "description": "x" * 70000}, "json_schema", "forms.schema_too_large"),
    ],
)
async def test_a_schema_that_cannot_serve_is_refused(session_factory, product_id, schema, field, code):
    errors = await _refusal(session_factory, product_id, schema=schema, rules=[])
    assert (errors[0]["field"], errors[0]["code"]) == (field, code)


async def test_local_refs_are_fine(session_factory, product_id):
    schema = {
        "type": "object",
        "$defs": {"money": {"type": "number"}},
        "properties": {"a": {"$ref": "#/$defs/money"}},
    }
    assert await _publish(session_factory, product_id, schema, []) == 1


async def test_versions_count_up_and_old_ones_never_change(session_factory, product_id):
    assert await _publish(session_factory, product_id) == 1
    assert await _publish(session_factory, product_id, rules=RULES[:1]) == 2
    assert await _publish(session_factory, product_id, rules=[]) == 3
    async with session_factory() as session:
        first = await form_version(session, product_id, 1)
        newest = await form_version(session, product_id)
        assert (len(first.rules), newest.version, newest.rules) == (4, 3, [])
        with pytest.raises(NotFound) as missing:
            await form_version(session, product_id, 9)
        assert missing.value.code == "forms.no_such_version"
        entries = (
            await session.scalars(select(AuditEntry).where(AuditEntry.action == "forms.publish"))
        ).all()
    assert [e.after["form_version"] for e in entries] == [1, 2, 3]


async def test_no_form_and_no_product_are_told_apart(session_factory, product_id):
    async with session_factory() as session:
        with pytest.raises(NotFound) as none:
            await form_version(session, product_id)
        with pytest.raises(NotFound) as no_product:
            await form_version(session, "nope")
    assert (none.value.code, no_product.value.code) == ("forms.none_published", "products.not_found")


# --- submissions -----------------------------------------------------------------------------

GOOD = {"amount": 50000, "term_months": 24, "purpose": "装修", "income": {"monthly": 8000, "debt": 3000}}


async def _context(session_factory, product_id, birth=date(1980, 5, 1)):
    async with session_factory() as session:
        product = await product_by_id(session, product_id)
    return RuleContext.for_product(
        product, applicant={"birth_date": birth, "age": 45}, today=date(2026, 1, 15)
    )


async def _check(session_factory, product_id, values, **context):
    await _publish(session_factory, product_id)
    async with session_factory() as session:
        version = await form_version(session, product_id)
    try:
        validate_submission(version, values, context=await _context(session_factory, product_id, **context))
    except Invalid as refused:
        assert refused.code == "forms.submission_invalid"
        return [(e["field"], e["code"]) for e in refused.errors]
    return []


async def test_a_good_submission_passes(session_factory, product_id):
    assert await _check(session_factory, product_id, GOOD) == []


async def test_schema_errors_name_the_json_path_of_each_value(session_factory, product_id):
    values = {
        "amount": "lots",
        "purpose": "旅游",
        "income": {"monthly": -1},
        "email": "not-an-email",
        "pet": "cat",
    }
    assert sorted(await _check(session_factory, product_id, values)) == [
        ("amount", "forms.type"),
        ("email", "forms.format"),
        ("income.monthly", "forms.minimum"),
        ("pet", "forms.unexpected"),
        ("purpose", "forms.enum"),
        ("term_months", "forms.required"),
    ]


async def test_failed_rules_name_their_fields_and_codes(session_factory, product_id):
    values = {**GOOD, "amount": 500000, "term_months": 36, "income": {"monthly": 8000, "debt": 4001}}
    assert await _check(session_factory, product_id, values, birth=date(1961, 1, 1)) == [
        ("amount", "forms.amount_out_of_range"),
        ("term_months", "forms.term_not_offered"),
        ("term_months", "forms.age_at_maturity"),
        ("income.debt", "forms.debt_to_income_too_high"),
    ]


async def test_whole_numbers_divide_as_numbers(session_factory, product_id):
    """3000/8000 in integers is 0 in CEL; form numbers are doubles, so the ratio is 0.375."""
    ratio_over = {**GOOD, "income": {"monthly": 8000, "debt": 4400}}
    assert await _check(session_factory, product_id, ratio_over) == [
        ("income.debt", "forms.debt_to_income_too_high")
    ]


async def test_rules_wait_for_a_schema_valid_submission(session_factory, product_id):
    values = {**GOOD, "amount": 10**9, "income": {"monthly": "many"}}
    assert await _check(session_factory, product_id, values) == [("income.monthly", "forms.type")]


async def test_a_rule_that_cannot_be_evaluated_is_an_entry_not_a_crash(session_factory, product_id):
    rules = [
        {"name": "needs_age", "field": "amount", "expression": "applicant.salary > 0"},
        {"name": "not_boolean", "field": "amount", "expression": "form.amount * 2"},
        {"name": "divides", "field": "amount", "expression": "1 / 0 == 1"},
    ]
    await _publish(session_factory, product_id, rules=rules)
    async with session_factory() as session:
        version = await form_version(session, product_id)
    with pytest.raises(Invalid) as refused:
        validate_submission(version, GOOD, context=await _context(session_factory, product_id))
    assert [(e["code"], e["params"]) for e in refused.value.errors] == [
        ("forms.rule_value_missing", {"rule": "needs_age", "name": "applicant.salary"}),
        ("forms.rule_not_boolean", {"rule": "not_boolean"}),
        ("forms.rule_error", {"rule": "divides", "detail": "modulus or divide by zero"}),
    ]


async def test_a_version_number_is_unique_per_product(session_factory, product_id):
    from sqlalchemy.exc import IntegrityError

    await _publish(session_factory, product_id)
    with pytest.raises(IntegrityError):
        async with session_factory() as session, session.begin():
            session.add(
                FormVersion(product_id=product_id, version=1, json_schema={}, rules=[], created_by="x")
            )
