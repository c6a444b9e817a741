"""Cost of CEL expressions (core.expressions) versus the same rule as a plain Python lambda.

Measures, in one run so machine drift hits both: compiling a typical form rule (parse and name
check), evaluating it (value conversion + cel-python's tree interpreter), and the lambda doing the
same comparison on the same values. Also the cost of a whole form submission check
(JSON Schema + four rules) through ``validate_submission``.

    .venv/bin/python bench/expressions.py --rounds 5 --evaluations 2000
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from collections.abc import Callable
from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from core.expressions import compile_expression
from core.forms.definition import RULE_VARIABLES
from core.forms.models import FormVersion
from core.forms.validation import RuleContext, validate_submission

RULE = "form.amount >= product.min_amount && form.amount <= product.max_amount && form.term_months in product.terms_months"
VALUES: dict[str, Any] = {
    "form": {"amount": Decimal("50000"), "term_months": Decimal("24")},
    "product": {
        "min_amount": Decimal("1000.00"),
        "max_amount": Decimal("200000.00"),
        "terms_months": [12, 24, 36],
    },
    "applicant": {},
    "today": date(2026, 1, 15),
}


def baseline(values: dict[str, Any]) -> bool:
    form, product = values["form"], values["product"]
    return bool(
        product["min_amount"] <= form["amount"] <= product["max_amount"]
        and form["term_months"] in product["terms_months"]
    )


def _per_call_us(function: Callable[[], Any], calls: int) -> float:
    start = time.perf_counter()
    for _ in range(calls):
        function()
    return (time.perf_counter() - start) / calls * 1e6


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--evaluations", type=int, default=2000)
    args = parser.parse_args()

    compile_expression(RULE, RULE_VARIABLES)  # the first call builds cel-python's Lark parser: not per rule
    expression = compile_expression(RULE, RULE_VARIABLES)
    assert expression.evaluate(VALUES) is baseline(VALUES) is True
    form = FormVersion(
        id="bench",
        product_id="p",
        version=1,
        json_schema={
            "type": "object",
            "required": ["amount", "term_months"],
            "properties": {
                "amount": {"type": "number"},
                "term_months": {"type": "integer"},
                "income": {
                    "type": "object",
                    "properties": {"monthly": {"type": "number"}, "debt": {"type": "number"}},
                },
            },
        },
        rules=[
            {
                "name": "in_range",
                "field": "amount",
                "expression": "form.amount >= product.min_amount && form.amount <= product.max_amount",
            },
            {
                "name": "term",
                "field": "term_months",
                "expression": "form.term_months in product.terms_months",
            },
            {
                "name": "age",
                "field": "term_months",
                "expression": "years_between(applicant.birth_date, add_months(today, form.term_months)) <= 65",
            },
            {
                "name": "dti",
                "field": "income",
                "expression": "!has(form.income.debt) || form.income.debt / form.income.monthly <= 0.5",
            },
        ],
        created_by="bench",
    )
    context = RuleContext(
        product=VALUES["product"], applicant={"birth_date": date(1980, 1, 1)}, today=date(2026, 1, 15)
    )
    submission = {"amount": 50000, "term_months": 24, "income": {"monthly": 8000, "debt": 2000}}

    compiles, evaluations, lambdas, submissions = [], [], [], []
    for _ in range(args.rounds):
        compiles.append(
            _per_call_us(lambda: compile_expression(RULE, RULE_VARIABLES), max(50, args.evaluations // 20))
        )
        evaluations.append(_per_call_us(lambda: expression.evaluate(VALUES), args.evaluations))
        lambdas.append(_per_call_us(lambda: baseline(VALUES), args.evaluations * 10))
        submissions.append(
            _per_call_us(
                lambda: validate_submission(form, submission, context=context), args.evaluations // 4
            )
        )

    def row(name: str, samples: list[float]) -> str:
        return f"{name:<44} {statistics.median(samples):>10.1f} µs  (min {min(samples):.1f})"

    print(f"rule: {RULE}")
    print(row("compile (parse + name check)", compiles))
    print(row("evaluate (convert + interpret)", evaluations))
    print(row("plain Python lambda, same values", lambdas))
    print(row("validate_submission (schema + 4 rules)", submissions))
    print(f"evaluate / lambda: {statistics.median(evaluations) / statistics.median(lambdas):.0f}×")


if __name__ == "__main__":
    main()
