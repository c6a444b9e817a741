"""The operator's CLI: the first admin on an empty database, branches, users, tokens, roles,
``audit verify`` finding a changed row, and every change audited as the operator."""

from __future__ import annotations

import asyncio
import json
import re

import pytest
from click.testing import CliRunner
from sqlalchemy import select, text

from core.audit import AuditEntry
from core.secretbox import generate_key
from hub.cli import cli as lendhub
from hub.database import make_engine, make_session_factory

PASSWORD = "Corr3ct-horse"


@pytest.fixture
def run(engine, database_url, monkeypatch, tmp_path):
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("LENDHUB_DATABASE_URL", database_url)
    monkeypatch.setenv("LENDHUB_SECRET_KEY", generate_key())
    monkeypatch.setenv("LENDHUB_LOAD_PLUGINS", "")
    monkeypatch.setenv("LENDHUB_OUTBOUND_ALLOW_PRIVATE_TARGETS", "127.0.0.1")
    monkeypatch.setenv("LANG", "en_US.UTF-8")
    monkeypatch.delenv("LENDHUB_REDIS_URL", raising=False)
    runner = CliRunner()

    def invoke(*args: str, input: str | None = None):
        return runner.invoke(lendhub, list(args), input=input, catch_exceptions=False)

    return invoke


def _audit(database_url: str) -> list[AuditEntry]:
    async def read() -> list[AuditEntry]:
        engine = make_engine(database_url)
        try:
            async with make_session_factory(engine)() as session:
                return list((await session.scalars(select(AuditEntry).order_by(AuditEntry.seq))).all())
        finally:
            await engine.dispose()

    return asyncio.run(read())


def _add_loan_officer(run):
    """User ``li``, a loan officer of branch SH01."""
    return run(
        "users",
        "add",
        "li",
        "--role",
        "loan_officer",
        "--branch",
        "SH01",
        "--password-stdin",
        input=PASSWORD + "\n",
    )


def test_the_first_admin_and_the_organisation_from_the_cli(run, database_url):
    first = run("users", "bootstrap")
    assert first.exit_code == 0 and "password" in first.output
    assert "users exist already" in run("users", "bootstrap").output
    assert run("branches", "add", "HQ", "--name", "总行").exit_code == 0
    assert run("branches", "add", "SH01", "--name", "上海分行", "--parent", "HQ").exit_code == 0
    orphan = run("branches", "add", "X1", "--name", "x", "--parent", "NOPE")
    assert orphan.exit_code == 1 and "No such branch: NOPE" in orphan.output
    added = _add_loan_officer(run)
    assert added.exit_code == 0, added.output
    weak = run("users", "add", "wu", "--role", "reviewer", "--password-stdin", input="short\n")
    assert weak.exit_code == 1 and "at least 10" in weak.output
    unknown = run("users", "add", "wu", "--role", "wizard", "--password-stdin", input=PASSWORD + "\n")
    assert unknown.exit_code == 1 and "No such role: wizard" in unknown.output
    token = run("tokens", "create", "--name", "crm-sync", "--role", "integrator")
    assert token.exit_code == 0 and token.output.strip().splitlines()[0].startswith("lh_")
    assert run("tokens", "revoke", "crm-sync").exit_code == 0
    assert run("users", "disable", "li").exit_code == 0
    role = run("roles", "set", "viewer", "--create", "--grant", "connectors.read=all")
    assert role.exit_code == 0, role.output
    assert run("roles", "set", "viewer", "--grant", "connectors.fly=all").exit_code == 1
    entries = _audit(database_url)
    mine = [e for e in entries if e.actor_kind == "operator"]
    assert {e.action for e in mine} >= {
        "users.create",
        "branches.create",
        "tokens.create",
        "tokens.revoke",
        "users.disable",
        "roles.create",
    }
    assert all(e.actor.startswith("operator:") for e in mine)
    assert PASSWORD not in repr([(e.before, e.after) for e in entries])
    assert "intact" in run("audit", "verify").output


def test_audit_verify_names_the_changed_entry_and_exits_non_zero(run, database_url):
    run("branches", "add", "HQ", "--name", "总行")
    run("branches", "add", "BJ", "--name", "北京", "--parent", "HQ")

    async def tamper() -> int:
        engine = make_engine(database_url)
        try:
            async with engine.begin() as connection:
                seq = (
                    await connection.execute(
                        text("SELECT max(seq) FROM audit_log WHERE action = 'branches.create'")
                    )
                ).scalar_one()
                await connection.execute(
                    text("UPDATE audit_log SET after = NULL WHERE seq = :seq"), {"seq": seq}
                )
                return int(seq)
        finally:
            await engine.dispose()

    seq = asyncio.run(tamper())
    result = run("audit", "verify")
    assert result.exit_code == 1 and f"entry {seq}" in result.output and "changed" in result.output
    as_json = run("audit", "verify", "--json")
    assert as_json.exit_code == 1
    assert json.loads(as_json.stdout) | {"reason": "…"} == {
        "intact": False,
        "entries_verified": json.loads(as_json.stdout)["entries_verified"],
        "broken_at": seq,
        "reason": "…",
    }


def test_webhook_and_subscription_changes_from_the_cli_are_audited_as_the_operator(run, database_url):
    added = run("webhooks", "subscriptions", "add", "crm", "--url", "http://127.0.0.1:9/hook", "--event", "*")
    assert added.exit_code == 0, added.output
    assert run("webhooks", "subscriptions", "disable", "crm").exit_code == 0
    assert run("webhooks", "subscriptions", "rotate-secret", "crm").exit_code == 0
    actions = [
        (e.action, e.target_id, e.actor_kind)
        for e in _audit(database_url)
        if e.target_type == "webhook_subscription"
    ]
    assert actions == [
        ("subscriptions.create", "crm", "operator"),
        ("subscriptions.update", "crm", "operator"),
        ("subscriptions.rotate_secret", "crm", "operator"),
    ]
    assert not any("whsec_" in repr(e.after) for e in _audit(database_url))


def _table(output: str) -> list[list[str]]:
    """The rows of an aligned table (header first), split on runs of two or more spaces."""
    return [re.split(r"\s{2,}", line.strip()) for line in output.splitlines() if line.strip()]


def test_roles_show_prints_its_fields_and_grants_as_tables_and_json_on_request(run):
    shown = run("roles", "show", "auditor")
    assert shown.exit_code == 0, shown.output
    rows = _table(shown.stdout)
    assert ["name", "auditor"] in rows and ["built-in", "yes"] in rows
    header = rows.index(["PERMISSION", "SCOPE"])
    grants = dict(row for row in rows[header + 1 :] if len(row) == 2 and not set(row[0]) <= {"-", " "})
    assert grants.get("*.read") == "all"
    as_json = json.loads(run("roles", "show", "auditor", "--json").stdout)
    assert as_json["name"] == "auditor" and as_json["builtin"] is True
    assert as_json["grants"] == grants
    unknown = run("roles", "show", "wizard")
    assert unknown.exit_code == 1 and "No such role: wizard" in unknown.output


def test_users_roles_tokens_and_branches_are_listed_as_tables_or_json(run):
    run("users", "bootstrap")
    run("branches", "add", "HQ", "--name", "总行")
    run("branches", "add", "SH01", "--name", "上海分行", "--parent", "HQ")
    _add_loan_officer(run)
    token = run("tokens", "create", "--name", "crm-sync", "--role", "integrator").stdout.splitlines()[0]

    users = _table(run("users", "list").stdout)
    assert users[0] == ["USERNAME", "NAME", "BRANCH", "ROLES", "STATE", "CREATED"]
    assert users[-1][:5] == ["li", "-", "SH01", "loan_officer", "enabled"]
    assert {u["username"]: u["roles"] for u in json.loads(run("users", "list", "--json").stdout)} == {
        "admin": ["admin"],
        "li": ["loan_officer"],
    }
    roles = _table(run("roles", "list").stdout)
    assert roles[0] == ["NAME", "BUILT-IN", "GRANTS", "DESCRIPTION"]
    assert "auditor" in {row[0] for row in roles[1:]}
    assert {r["name"] for r in json.loads(run("roles", "list", "--json").stdout)} >= {"admin", "auditor"}
    tokens = run("tokens", "list")
    assert token not in tokens.output  # never the value
    assert _table(tokens.stdout)[0] == ["NAME", "PREFIX", "ROLES", "BRANCH", "EXPIRES", "STATE"]
    [listed] = json.loads(run("tokens", "list", "--json").stdout)
    assert (listed["name"], listed["roles"], listed["revoked"]) == ("crm-sync", ["integrator"], False)
    assert token.startswith(listed["prefix"])
    branches = json.loads(run("branches", "list", "--json").stdout)
    assert [(b["code"], b["parent"], b["depth"]) for b in branches] == [("HQ", None, 0), ("SH01", "HQ", 1)]


def test_commands_that_print_a_secret_or_a_result_speak_json_on_request(run):
    created = json.loads(run("users", "bootstrap", "--json").stdout)
    assert created["created"] is True and created["username"] == "admin" and len(created["password"]) >= 10
    assert json.loads(run("users", "bootstrap", "--json").stdout)["created"] is False
    token = json.loads(run("tokens", "create", "--name", "etl", "--role", "auditor", "--json").stdout)
    assert token["token"].startswith("lh_") and (token["name"], token["roles"]) == ("etl", ["auditor"])
    verified = json.loads(run("audit", "verify", "--json").stdout)
    assert verified["intact"] is True and verified["entries_verified"] >= 2 and verified["broken_at"] is None
    rotated = run("keys", "rotate", "--json")
    assert rotated.exit_code == 0, rotated.output
    assert set(json.loads(rotated.stdout)) == {"key", "re_sealed", "total"}
    assert _table(run("keys", "rotate").stdout)[0] == ["COLUMN", "RE-SEALED"]
    pii_key = json.loads(run("keys", "new", "--kid", "k2", "--json").stdout)
    assert pii_key["kind"] == "pii" and pii_key["key"].startswith("k2:")
    assert json.loads(run("keys", "new", "--auth", "--json").stdout)["kind"] == "auth"
