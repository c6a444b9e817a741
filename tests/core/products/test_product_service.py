"""The product service against a real database: audited changes, versions, lists, quotes."""

from __future__ import annotations

from dataclasses import replace
from datetime import date
from decimal import Decimal

import pytest
from sqlalchemy import select

from core.access import Actor
from core.audit import AuditEntry
from core.errors import Conflict, Invalid, NotFound
from core.products import ProductQuery, list_products, product_by_id
from core.products.rules import ProductDraft
from core.products.service import create_product, deactivate_product, quote, update_product

D = Decimal
OPERATOR = Actor.operator("tester")
DRAFT = ProductDraft(
    code="consumer-12",
    name="消费贷-等额本息",
    min_amount=D("1000"),
    max_amount=D("500000"),
    terms_months=[24, 12, 6],
    annual_rate=D("0.12"),
    repayment_methods=["equal_installment", "equal_principal"],
    upfront_fee={"kind": "fixed", "value": D("20")},
)


async def _create(session_factory, draft=DRAFT):
    async with session_factory() as session, session.begin():
        product = await create_product(session, OPERATOR, draft)
        return product.id


async def _audit(session_factory, action):
    async with session_factory() as session:
        return (await session.scalars(select(AuditEntry).where(AuditEntry.action == action))).all()


async def test_create_stores_normalised_values_and_audits(session_factory):
    product_id = await _create(session_factory)
    async with session_factory() as session:
        product = await product_by_id(session, product_id)
    assert (product.min_amount, product.annual_rate) == (D("1000.00"), D("0.120000"))
    assert product.terms_months == [6, 12, 24]
    assert product.upfront_fee == {"kind": "fixed", "value": "20.00", "collection": "separate"}
    assert (product.version, product.active, product.penalty_markup) == (1, True, D("0.500000"))
    (entry,) = await _audit(session_factory, "products.create")
    assert entry.target_id == product_id
    assert entry.after["annual_rate"] == "0.120000"


async def test_a_taken_code_is_a_conflict_and_an_invalid_product_lists_every_field(session_factory):
    await _create(session_factory)
    with pytest.raises(Conflict) as taken:
        await _create(session_factory)
    assert taken.value.code == "products.duplicate_code"
    with pytest.raises(Invalid) as invalid:
        await _create(session_factory, replace(DRAFT, code="other", annual_rate=D("0.5"), terms_months=[]))
    assert {e["field"] for e in invalid.value.errors} == {"annual_rate", "terms_months"}


async def test_update_checks_the_whole_product_bumps_the_version_and_audits_before_and_after(session_factory):
    product_id = await _create(session_factory)
    async with session_factory() as session, session.begin():
        with pytest.raises(Invalid) as refused:
            await update_product(session, OPERATOR, product_id, {"min_amount": D("600000")})
    assert refused.value.errors[0]["field"] == "max_amount"
    async with session_factory() as session, session.begin():
        product = await update_product(
            session, OPERATOR, product_id, {"annual_rate": D("0.10"), "name": "新名字"}, expected_version=1
        )
        assert product.version == 2
    (entry,) = await _audit(session_factory, "products.update")
    assert entry.before == {"annual_rate": "0.120000", "name": "消费贷-等额本息"}
    assert entry.after == {"annual_rate": "0.100000", "name": "新名字"}


async def test_a_change_made_on_an_old_version_is_refused(session_factory):
    product_id = await _create(session_factory)
    async with session_factory() as session, session.begin():
        await update_product(session, OPERATOR, product_id, {"name": "A"})
    async with session_factory() as session, session.begin():
        with pytest.raises(Conflict) as stale:
            await update_product(session, OPERATOR, product_id, {"name": "B"}, expected_version=1)
    assert stale.value.params == {"expected": 1, "current": 2}


async def test_an_unchanged_update_writes_nothing_and_the_code_cannot_change(session_factory):
    product_id = await _create(session_factory)
    async with session_factory() as session, session.begin():
        product = await update_product(session, OPERATOR, product_id, {"annual_rate": D("0.120")})
        assert product.version == 1
    assert await _audit(session_factory, "products.update") == []
    async with session_factory() as session, session.begin():
        with pytest.raises(Invalid) as refused:
            await update_product(session, OPERATOR, product_id, {"code": "renamed"})
    assert refused.value.errors == [{"field": "code", "code": "products.not_editable", "params": {}}]


async def test_deactivated_products_stay_readable_but_are_not_quoted(session_factory):
    product_id = await _create(session_factory)
    async with session_factory() as session, session.begin():
        await deactivate_product(session, OPERATOR, product_id)
    async with session_factory() as session:
        product = await product_by_id(session, product_id)
    assert product.active is False
    with pytest.raises(Conflict) as refused:
        quote(product, amount=D("1000"), term_months=12, repayment_method=None, start_date=date(2026, 1, 1))
    assert refused.value.code == "products.inactive"


async def test_list_filters_searches_sorts_and_pages(session_factory):
    for code, name, rate in [
        ("auto-36", "车贷 36 期", "0.08"),
        ("sme-12", "经营贷", "0.10"),
        ("cash_7", "现金 100%", "0.18"),
    ]:
        await _create(session_factory, replace(DRAFT, code=code, name=name, annual_rate=D(rate)))
    async with session_factory() as session, session.begin():
        sme = (await list_products(session, ProductQuery(search="SME")))[0]
        await deactivate_product(session, OPERATOR, sme.id)
    async with session_factory() as session:

        async def codes(**query):
            return [p.code for p in await list_products(session, ProductQuery(**query))]

        assert await codes() == ["auto-36", "cash_7", "sme-12"]
        assert await codes(sort="-annual_rate") == ["cash_7", "sme-12", "auto-36"]
        assert await codes(active=True) == ["auto-36", "cash_7"]
        assert await codes(active=False) == ["sme-12"]
        assert await codes(search="车贷") == ["auto-36"]
        assert await codes(search="%") == ["cash_7"]  # a wildcard is a character, not a pattern
        assert await codes(search="_") == ["cash_7"]
        assert await codes(limit=1, offset=1) == ["cash_7"]


async def test_quote_refusals_name_their_fields(session_factory):
    product_id = await _create(session_factory)
    async with session_factory() as session:
        product = await product_by_id(session, product_id)
    with pytest.raises(Invalid) as refused:
        quote(
            product, amount=D("999.99"), term_months=18, repayment_method="flat", start_date=date(2026, 1, 1)
        )
    assert [(e["field"], e["code"]) for e in refused.value.errors] == [
        ("amount", "products.amount_out_of_range"),
        ("term_months", "products.term_not_offered"),
        ("repayment_method", "products.method_not_offered"),
    ]
    schedule = quote(
        product, amount=D("100000"), term_months=12, repayment_method=None, start_date=date(2026, 1, 1)
    )
    assert schedule.terms.method.value == "equal_installment"  # the product's first
    assert schedule.rows[0].installment == D("8884.88")
    assert schedule.upfront_fee == D("20.00")


async def test_an_unknown_product_is_not_found(session_factory):
    async with session_factory() as session:
        with pytest.raises(NotFound):
            await product_by_id(session, "nope")
