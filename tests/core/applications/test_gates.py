"""Gate kinds and their registry, without a database: what is missing, and what a bad config is."""

from __future__ import annotations

from decimal import Decimal

import pytest

from core.applications.gates import GateRegistry, GateSpec, RequiredFields, documents_gate
from core.applications.models import Application


def _application(values, purpose="装修"):
    return Application(
        id="app-1",
        customer_id="cust-1",
        amount=Decimal("1000.00"),
        term_months=12,
        repayment_method="equal_installment",
        purpose=purpose,
        values=values,
    )


async def test_required_fields_names_each_absent_blank_or_empty_value():
    values = {
        "income": {"monthly": 0, "debt": None},
        "employer": {"name": "  "},
        "guarantors": [{"name": "王五"}],
        "tags": [],
    }
    gate = GateSpec(
        "submitted",
        "required_fields",
        {
            "fields": [
                "income.monthly",
                "income.debt",
                "employer.name",
                "employer.phone",
                "guarantors.0.name",
                "guarantors.1.name",
                "tags",
                "amount",
                "purpose",
            ]
        },
    )
    unmet, errors = await GateRegistry().unmet(None, _application(values, purpose=None), [gate])  # type: ignore[arg-type]
    assert [u.as_json() for u in unmet] == [
        {
            "gate": "required_fields",
            "before": "submitted",
            "missing": [
                "income.debt",
                "employer.name",
                "employer.phone",
                "guarantors.1.name",
                "tags",
                "purpose",
            ],
        }
    ]
    assert [e["field"] for e in errors] == [
        "values.income.debt",
        "values.employer.name",
        "values.employer.phone",
        "values.guarantors.1.name",
        "values.tags",
        "purpose",
    ]


async def test_the_documents_kind_asks_the_documents_context_and_reports_what_it_lacks():
    asked = []

    async def missing(session, application, doc_types):
        asked.append((application.id, list(doc_types)))
        return [t for t in doc_types if t != "id_card_front"]

    registry = GateRegistry([documents_gate(missing, lambda: {"id_card_front", "id_card_back", "payslip"})])
    gate = GateSpec("submitted", "documents", {"doc_types": ["id_card_front", "id_card_back"]})
    unmet, errors = await registry.unmet(None, _application({}), [gate])  # type: ignore[arg-type]
    assert asked == [("app-1", ["id_card_front", "id_card_back"])]
    assert [u.as_json() for u in unmet] == [
        {"gate": "documents", "before": "submitted", "missing": ["id_card_back"]}
    ]
    assert errors == [
        {
            "field": "documents",
            "code": "applications.gate_document_missing",
            "params": {"doc_type": "id_card_back"},
        }
    ]
    bad = registry.spec_errors(
        0, GateSpec("submitted", "documents", {"doc_types": ["passport"]}), ["submitted"]
    )
    assert bad == [
        {
            "field": "gates[0].params.doc_types.0",
            "code": "applications.gate_doc_type_unknown",
            "params": {"doc_type": "passport"},
        }
    ]


async def test_a_configured_kind_nobody_provides_fails_closed():
    unmet, errors = await GateRegistry().unmet(
        None,  # type: ignore[arg-type]
        _application({}),
        [GateSpec("submitted", "documents", {"doc_types": ["id_card_front"]})],
    )
    assert [u.as_json() for u in unmet] == [{"gate": "documents", "before": "submitted", "missing": []}]
    assert errors[0]["code"] == "applications.gate_unavailable"


@pytest.mark.parametrize(
    ("params", "field", "code"),
    [
        ({}, "gates[0].params.fields", "applications.gate_fields_param"),
        ({"fields": "income"}, "gates[0].params.fields", "applications.gate_fields_param"),
        ({"fields": ["a"] * 51}, "gates[0].params.fields", "applications.gate_fields_param"),
        ({"fields": ["income..monthly"]}, "gates[0].params.fields.0", "applications.gate_fields_param"),
        ({"fields": [7]}, "gates[0].params.fields.0", "applications.gate_fields_param"),
        ({"fields": ["a", "a"]}, "gates[0].params.fields", "applications.gate_param_duplicate"),
        ({"fields": ["a"], "extra": 1}, "gates[0].params.extra", "applications.gate_param_unknown"),
    ],
)
def test_bad_required_fields_params_are_named(params, field, code):
    errors = GateRegistry().spec_errors(0, GateSpec("submitted", "required_fields", params), ["submitted"])
    assert (errors[0]["field"], errors[0]["code"]) == (field, code)


def test_a_kind_registered_twice_is_refused():
    with pytest.raises(ValueError, match="required_fields"):
        GateRegistry([RequiredFields(), RequiredFields()])
