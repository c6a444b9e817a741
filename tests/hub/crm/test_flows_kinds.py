"""Countersign (会签), any-of (或签) and the ways of picking one person: round robin and least loaded."""

from __future__ import annotations

import pytest
from accesshub import access_hub
from flowsorg import decide, setup_flows, status_of, submit

KINDS = """
key: kinds
name: 会签与或签
start: joint
stages:
  - id: joint
    name: 会签
    kind: countersign
    assignees: {users: [wu, ma]}
    next: either
  - id: either
    name: 或签
    kind: any_of
    assignees: {users: [committee_a, committee_b]}
    next: approved
"""

ROTA = """
key: rota
name: 轮派
start: one
stages:
  - id: one
    name: 审核
    kind: single
    assignees: {role: approver, pick: PICK}
    next: approved
"""


@pytest.fixture
async def hub(database_url, engine, tmp_path):
    async with access_hub(database_url, tmp_path) as (client, runtime):
        org = await setup_flows(client, runtime)
        yield client, runtime, org


async def _use(client, org, source: str, key: str) -> None:
    saved = await client.post("/api/flows", json={"source": source}, headers=org["h"]["risk"])
    assert saved.status_code == 201, saved.text
    assert (await client.post(f"/api/flows/{key}/publish", headers=org["h"]["risk"])).status_code == 200
    changed = await client.patch(
        f"/api/products/{org['products']['business']}", json={"flow_key": key}, headers=org["h"]["admin"]
    )
    assert changed.status_code == 200, changed.text


async def test_countersign_needs_everyone_and_any_of_the_first(hub):
    client, _runtime, org = hub
    await _use(client, org, KINDS, "kinds")
    app = await submit(client, org, "a", "business", "100000.00")
    first = await decide(client, org, "wu", app["id"], "approve")
    assert (first.json()["stage_outcome"], first.json()["stage"]) == (None, "joint"), first.text
    second = await decide(client, org, "ma", app["id"], "approve")
    assert (second.json()["stage_outcome"], second.json()["stage"]) == ("approved", "either")
    either = await decide(client, org, "committee_b", app["id"], "approve")
    assert either.json()["status"] == "approved", either.text
    # The other any-of seat closed with the stage.
    late = await decide(client, org, "committee_a", app["id"], "approve")
    assert (late.status_code, late.json()["code"]) == (409, "approvals.not_in_review")
    # One rejection in a countersign rejects.
    other = await submit(client, org, "b", "business", "100000.00")
    assert (await decide(client, org, "wu", other["id"], "approve")).status_code == 200
    no = await decide(client, org, "ma", other["id"], "reject", reason_codes=["collateral.weak"])
    assert (no.json()["status"], no.json()["stage_outcome"]) == ("rejected", "rejected")
    assert await status_of(client, org, other["id"]) == ("rejected", "joint")


@pytest.mark.parametrize("pick", ["round_robin", "least_loaded"])
async def test_single_stage_picks_one_person_and_spreads_the_work(hub, pick):
    client, _runtime, org = hub
    await _use(client, org, ROTA.replace("PICK", pick), "rota")
    holders = []
    for _ in range(5):
        app = await submit(client, org, "a", "business", "60000.00")
        team = await client.get("/api/tasks", params={"view": "team"}, headers=org["h"]["admin"])
        (task,) = [t for t in team.json()["items"] if t["application_id"] == app["id"]]
        holders.append(task["assignee"])
    approvers = ["committee_a", "committee_b", "committee_c", "ma", "wu"]  # every approver reaching SH01
    assert sorted(holders) == approvers  # five applications, five different people
    if pick == "round_robin":
        assert holders == approvers  # in username order
