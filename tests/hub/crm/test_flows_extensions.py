"""Plugins add conditions and actions to flows through ``register_flow_extensions``.

A condition is read as ``checks.<name>``; an action runs in a worker when its stage is entered.
A flow naming either before a plugin registered it is refused; a plugin registering a malformed
or taken name is quarantined, its other registrations rolled back.
"""

from __future__ import annotations

from accesshub import access_hub
from flowsorg import setup_flows, submit
from waiting import wait_for

from core.flows.extensions import ActionCall, FlowAction, FlowCondition
from hub.app import create_app
from hub.settings import load_settings
from plugins.manager import make_plugin_manager
from plugins.sdk import hookimpl

CALLS: list[ActionCall] = []

FLOW = """
key: staff-check
name: 员工贷审查
start: screen
stages:
  - id: screen
    name: 黑名单筛查
    kind: automatic
    rules:
      - when: "checks.blacklisted"
        outcome: reject
        reason_codes: [policy.blacklist]
    otherwise: approve
    refer_to: review
    next: review
  - id: review
    name: 审核
    kind: single
    assignees: {role: reviewer}
    on_enter: [acme.notify]
    next: approved
"""


class AcmePlugin:
    LENDHUB_HOOK_API = "1.3"

    @hookimpl
    def register_flow_extensions(self, register):
        register(
            FlowCondition(
                "blacklisted", "the borrower is on ACME's list", lambda facts: facts["amount"] > 90000
            )
        )
        register(FlowAction("acme.notify", "tell ACME's OA", CALLS.append))


class Listener:
    """Implements the two flow event hooks, keeping every payload."""

    LENDHUB_HOOK_API = "1.3"

    def __init__(self) -> None:
        self.seen: list[tuple[str, dict]] = []

    @hookimpl
    def application_stage_entered(self, event):
        self.seen.append(("application_stage_entered", dict(event.payload)))

    @hookimpl
    async def application_decision_made(self, event):
        self.seen.append(("application_decision_made", dict(event.payload)))


class ClumsyPlugin:
    LENDHUB_HOOK_API = "1.3"

    @hookimpl
    def register_flow_extensions(self, register):
        register(FlowCondition("fine", "ok", lambda facts: True))
        register(FlowCondition("Bad Name", "not a name", lambda facts: True))


def _host():
    host = make_plugin_manager(load_entrypoints=False)
    host.add_plugin("acme", AcmePlugin(), distribution="acme", version="1.0")
    host.add_plugin("clumsy", ClumsyPlugin(), distribution="clumsy", version="1.0")
    return host


async def test_register_flow_extensions_conditions_route_and_actions_run(
    database_url, engine, tmp_path, monkeypatch
):
    host = _host()
    assert {r.name: r.status for r in host.quarantined} == {"clumsy": "quarantined"}
    assert sorted(host.flow_extensions.conditions) == ["blacklisted"]  # clumsy's "fine" rolled back
    settings = load_settings(
        database_url=database_url, secret_key_file=tmp_path / "secret.key", inprocess_workers=True
    )
    app = create_app(settings, host=host)
    async with app.router.lifespan_context(app):
        import httpx

        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://127.0.0.1") as client:
            org = await setup_flows(client, app.state.runtime)
            saved = await client.post("/api/flows", json={"source": FLOW}, headers=org["h"]["risk"])
            assert saved.status_code == 201, saved.text
            assert (
                await client.post("/api/flows/staff-check/publish", headers=org["h"]["risk"])
            ).status_code == 200
            product = await client.patch(
                f"/api/products/{org['products']['business']}",
                json={"flow_key": "staff-check", "version": 1},
                headers=org["h"]["admin"],
            )
            assert product.status_code == 200, product.text
            small = await submit(client, org, "a", "business", "60000.00")
            assert (small["status"], small["stage"]) == ("in_review", "review")
            await wait_for(
                lambda: [c for c in CALLS if c.application_id == small["id"]], within=20, what="the action"
            )
            call = next(c for c in CALLS if c.application_id == small["id"])
            assert (call.stage, call.round, call.flow_key, call.flow_version) == (
                "review",
                1,
                "staff-check",
                1,
            )
            big = await submit(client, org, "b", "business", "95000.00")
            assert big["status"] == "rejected"


async def test_a_flow_naming_an_unregistered_condition_or_action_is_refused(database_url, engine, tmp_path):
    async with access_hub(database_url, tmp_path) as (client, runtime):
        org = await setup_flows(client, runtime)
        refused = await client.post("/api/flows", json={"source": FLOW}, headers=org["h"]["risk"])
        codes = {(e["field"], e["code"]) for e in refused.json()["errors"]}
        assert codes == {
            ("stages[0].rules[0].when", "flows.unknown_value"),
            ("stages[1].on_enter[0]", "flows.action_unknown"),
        }


async def test_application_stage_entered_and_application_decision_made_reach_plugins(
    database_url, engine, tmp_path
):
    import httpx

    listener = Listener()
    host = make_plugin_manager(load_entrypoints=False)
    host.add_plugin("listener", listener, distribution="listener", version="1.0")
    settings = load_settings(
        database_url=database_url, secret_key_file=tmp_path / "secret.key", inprocess_workers=True
    )
    app = create_app(settings, host=host)
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://127.0.0.1") as client:
            org = await setup_flows(client, app.state.runtime)
            sent = await submit(client, org, "a", "business", "100000.00")
            decided = await client.post(
                f"/api/applications/{sent['id']}/decisions",
                json={"decision": "approve"},
                headers=org["h"]["zhou"],
            )
            assert decided.status_code == 200, decided.text
            await wait_for(lambda: len(listener.seen) >= 3, within=20, what="three flow events")
    entered = [p for hook, p in listener.seen if hook == "application_stage_entered"]
    made = [p for hook, p in listener.seen if hook == "application_decision_made"]
    assert [(p["stage"], p["stage_name"], p["round"], p["flow_version"]) for p in entered] == [
        ("first", "初审", 1, 1),
        ("second", "复审", 1, 1),
    ]
    assert entered[0]["queue"] == ["zhou"] and entered[0]["assignees"] == []
    (decision,) = made
    assert (decision["decision"], decision["decided_by"], decision["stage_outcome"]) == (
        "approve",
        "user:zhou",
        "approved",
    )
    assert len(decision["dossier_hash"]) == 64
