"""``lendhub webhooks``: add a partner endpoint, rotate, list, inspect, replay, discard, stats."""

from __future__ import annotations

import json
import re

import pytest
from click.testing import CliRunner
from webhooks_inbox_support import SECRET, event_body, make_host, running_hub, sign

import hub.cli.webhooks as cli_module
from hub.cli.webhooks import webhooks
from hub.runtime import Runtime
from hub.settings import load_settings


@pytest.fixture
def cli(engine, database_url, tmp_path, monkeypatch):
    """Invoke ``lendhub webhooks …`` on the test database with the stub source loaded."""
    host = make_host()

    async def start() -> Runtime:
        settings = load_settings(
            database_url=database_url,
            secret_key_file=tmp_path / "secret.key",
            pii_key_file=tmp_path / "pii.keys",  # running_hub's: the inbox is sealed with them
        )
        return await Runtime.start(settings, jobs=False, host=host)

    monkeypatch.setattr(cli_module, "_start_runtime", start)

    def invoke(*args: str):
        return CliRunner().invoke(webhooks, list(args), catch_exceptions=False)

    return invoke


def test_add_source_prints_url_and_a_secret_once_then_rotates(cli):
    added = cli("add-source", "acme", "--scheme", "stub-hmac", "--base-url", "https://crm.example.cn")
    assert added.exit_code == 0, added.output
    assert "url: https://crm.example.cn/webhooks/stub-hmac/acme" in added.output
    [secret] = [
        line.split(": ", 1)[1]
        for line in added.output.splitlines()
        if line.startswith("secret (shown only now): ")
    ]
    assert secret.startswith("whsec_")
    table = cli("sources")
    assert table.exit_code == 0 and secret not in table.output
    assert table.output.split()[:5] == ["SOURCE", "NAME", "ENABLED", "SECRETS", "CREATED"]
    listed = cli("sources", "--json")
    [item] = json.loads(listed.output)
    assert (item["name"], item["secrets_active"]) == ("acme", 1)
    rotated = cli("rotate-secret", "acme", "--scheme", "stub-hmac")
    assert rotated.exit_code == 0 and "whsec_" in rotated.output and secret not in rotated.output
    assert json.loads(cli("sources", "--json").output)[0]["secrets_active"] == 2
    retired = cli("retire-secret", "acme", "--scheme", "stub-hmac")
    assert "secrets active: 1" in retired.output
    again = cli("add-source", "acme", "--scheme", "stub-hmac")
    assert again.exit_code == 1 and "already has an instance" in again.output
    unknown = cli("add-source", "acme", "--scheme", "nope")
    assert unknown.exit_code == 1 and "not registered" in unknown.output


def test_add_source_takes_config_fields_and_names_invalid_ones_without_echoing(cli):
    result = cli("add-source", "tuned", "--scheme", "stub-hmac", "--set", "tolerance_ms=1000")
    assert result.exit_code == 0 and "secret (shown only now): whsec_" in result.output
    assert json.loads(cli("sources", "--json").output)[0]["config"]["tolerance_ms"] == 1000
    given = cli("add-source", "given", "--scheme", "stub-hmac", "--set", "secrets=hunter2")
    assert given.exit_code == 1 and "secrets" in given.output and "hunter2" not in given.output
    bad = cli("add-source", "given", "--scheme", "stub-hmac", "--set", "oops")
    assert bad.exit_code == 2 and "KEY=VALUE" in bad.output


async def test_inbox_show_replay_discard_and_stats(engine, database_url, tmp_path, monkeypatch):
    async with running_hub(database_url, tmp_path) as (client, runtime):
        for n in range(2):
            body = event_body(f"c{n}")
            assert (
                await client.post("/webhooks/stub-hmac/partner", content=body, headers=sign(body))
            ).is_success
        await client.post("/webhooks/stub-hmac/partner", content=b"{}")
        host = runtime.host

    async def start() -> Runtime:
        settings = load_settings(
            database_url=database_url,
            secret_key_file=tmp_path / "secret.key",
            pii_key_file=tmp_path / "pii.keys",  # running_hub's: the inbox is sealed with them
        )
        return await Runtime.start(settings, jobs=False, host=host)

    monkeypatch.setattr(cli_module, "_start_runtime", start)

    def cli(*args: str):
        import asyncio

        return asyncio.get_running_loop().run_in_executor(
            None, lambda: CliRunner().invoke(webhooks, list(args), catch_exceptions=False)
        )

    listed = await cli("inbox", "--status", "received", "--source", "stub-hmac", "--json")
    assert listed.exit_code == 0, listed.output
    items = json.loads(listed.output)["items"]
    assert [i["event_id"] for i in items] == ["c0", "c1"]
    first = items[0]["id"]
    masked = json.loads((await cli("show", first)).output)
    assert masked["payload"] == {"n": "***"} and masked["request"]["body_text"] is None
    shown = await cli("show", first, "--reveal", "partner says it was never processed")
    assert json.loads(shown.output)["payload"] == {"n": 1} and SECRET not in shown.output
    assert (await cli("show", first, "--reveal", "")).exit_code == 1
    busy = await cli("replay", first)
    assert busy.exit_code == 1 and "received" in busy.output
    discarded = await cli("discard", first, "--reason", "partner test")
    assert discarded.exit_code == 0 and "discarded" in discarded.output
    replayed = await cli("replay", first)
    assert replayed.exit_code == 0 and "replay 1" in replayed.output
    dry = await cli("replay-dead", "--source", "stub-hmac", "--since", "2020-01-01", "--dry-run")
    assert json.loads(dry.output) == {"dry_run": True, "matched": [], "replayed": [], "failed": {}}
    bad_since = await cli("replay-dead", "--source", "stub-hmac", "--since", "yesterday")
    assert bad_since.exit_code == 2
    missing = await cli("show", "nope")
    assert missing.exit_code == 1 and "no inbox event" in missing.output
    inbox_table = (await cli("inbox")).output
    assert inbox_table.split()[:8] == [
        "ID",
        "SOURCE",
        "INSTANCE",
        "EVENT",
        "TYPE",
        "STATUS",
        "ATTEMPTS",
        "RECEIVED",
    ]
    assert re.search(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z", inbox_table)  # ISO 8601 UTC, as in JSON
    assert "REFUSED BECAUSE" in (await cli("stats")).output
    stats = json.loads((await cli("stats", "--json")).output)
    assert {(r["status"], r["count"]) for r in stats["inbox"]} == {("received", 2)}
    assert stats["refusals"][0]["reason"] == "webhook-signature-invalid"
