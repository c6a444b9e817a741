"""Assignment rules, each on its own and in order, on a real database.

SH01 has two loan officers (li, wang), a manager (mgr) and a disabled officer (old); BJ01 has
zhao, AUTO has sun. Partner acme queues its leads at SH01. Leads come in through ``intake.push``,
as a partner's would, so the rules run where they run in production.
"""

from __future__ import annotations

import asyncio
from collections import Counter

import pytest
from leadsorg import OP, branch_code, org, owner_of, push_lead, set_rules

from core.clock import business_date
from core.db import utcnow
from core.errors import Invalid
from core.leads import Lead
from core.leads.assignment import RuleSpec
from core.leads.intake import LeadFields, register

__all__ = ["org"]


async def test_round_robin_deals_the_branch_officers_in_turn_skipping_managers_and_the_disabled(org):
    await set_rules(org, RuleSpec(kind="round_robin"))
    owners = [await owner_of(org, await push_lead(org)) for _ in range(4)]
    assert owners == ["li", "wang", "li", "wang"]


async def test_round_robin_under_concurrent_pushes_still_alternates(org):
    await set_rules(org, RuleSpec(kind="round_robin"))
    leads = await asyncio.gather(*[push_lead(org) for _ in range(6)])
    assert Counter([await owner_of(org, lead) for lead in leads]) == {"li": 3, "wang": 3}


async def test_least_loaded_deals_to_the_officer_with_fewest_open_leads(org):
    async with org() as session, session.begin():
        for number in range(3):
            body = LeadFields(name="已有", mobile=f"1360000000{number}", owner="li")
            done = await register(session, OP, body, today=business_date(), now=utcnow())
            if number == 2:
                done.lead.status = "disqualified"  # closed leads are not load
    await set_rules(org, RuleSpec(kind="least_loaded"))
    owners = [await owner_of(org, await push_lead(org)) for _ in range(3)]
    assert owners == ["wang", "wang", "li"]  # li carries 2 open; a tie goes by username


async def test_by_branch_routes_then_the_dealing_rule_deals_there(org):
    await set_rules(
        org,
        RuleSpec(kind="by_branch", partner="acme", to_branch="BJ01"),
        RuleSpec(kind="round_robin"),
    )
    lead = await push_lead(org)
    assert (await owner_of(org, lead), await branch_code(org, lead)) == ("zhao", "BJ01")


async def test_by_product_routes_and_the_first_routing_rule_wins(org):
    await set_rules(
        org,
        RuleSpec(kind="by_product", product_code="car", to_branch="AUTO"),
        RuleSpec(kind="by_branch", to_branch="BJ01"),
        RuleSpec(kind="least_loaded"),
    )
    car = await push_lead(org, product_code="car")
    other = await push_lead(org, product_code="consumer")
    assert (await owner_of(org, car), await branch_code(org, car)) == ("sun", "AUTO")
    assert (await owner_of(org, other), await branch_code(org, other)) == ("zhao", "BJ01")


async def test_a_rule_without_officers_falls_through_and_an_undealt_lead_waits_in_the_queue(org):
    await set_rules(
        org,
        RuleSpec(kind="round_robin", officers=("old",)),  # disabled: an empty pool
        RuleSpec(kind="least_loaded", channel="online"),  # does not match a referral
    )
    lead = await push_lead(org)
    async with org() as session:
        row = await session.get(Lead, lead.id)
    assert (row.owner_id, row.assigned_at, row.first_contact_due_at) == (None, None, None)
    assert await branch_code(org, lead) == "SH01"


async def test_named_officers_replace_the_pool_and_take_the_lead_to_their_branch(org):
    await set_rules(org, RuleSpec(kind="round_robin", officers=("zhao", "sun")))
    first, second = await push_lead(org), await push_lead(org)
    assert [await owner_of(org, first), await owner_of(org, second)] == ["sun", "zhao"]
    assert await branch_code(org, first) == "AUTO"


async def test_bad_rules_are_refused_field_by_field_and_nothing_changes(org):
    await set_rules(org, RuleSpec(kind="round_robin"))
    with pytest.raises(Invalid) as refused:
        await set_rules(
            org,
            RuleSpec(kind="shuffle"),
            RuleSpec(kind="by_branch"),
            RuleSpec(kind="by_product", to_branch="NOPE"),
            RuleSpec(kind="least_loaded", to_branch="BJ01", officers=("nobody",)),
            RuleSpec(kind="by_branch", to_branch="BJ01", partner="ghost"),
        )
    assert {(e["field"], e["code"]) for e in refused.value.errors} == {
        ("rules.0.kind", "leads.rule_kind_unknown"),
        ("rules.1.to_branch", "leads.rule_needs_to_branch"),
        ("rules.2.to_branch", "leads.branch_unknown"),
        ("rules.2.product_code", "leads.rule_needs_product"),
        ("rules.3.to_branch", "leads.rule_deals_in_place"),
        ("rules.3.officers", "leads.officer_unknown"),
        ("rules.4.partner", "leads.partner_unknown"),
    }
    assert [await owner_of(org, await push_lead(org)) for _ in range(2)] == [
        "li",
        "wang",
    ]  # the old rules stand
