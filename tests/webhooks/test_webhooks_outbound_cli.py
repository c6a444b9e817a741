"""``lendhub webhooks subscriptions …`` against a real database."""

from __future__ import annotations

import json

import pytest
from click.testing import CliRunner

from core.secretbox import generate_key
from hub.cli.webhook_subscriptions import subscriptions


@pytest.fixture
def cli(engine, database_url, monkeypatch, tmp_path):
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("LENDHUB_DATABASE_URL", database_url)
    monkeypatch.setenv("LENDHUB_SECRET_KEY", generate_key())
    monkeypatch.setenv("LENDHUB_LOAD_PLUGINS", "")
    monkeypatch.setenv("LENDHUB_OUTBOUND_ALLOW_PRIVATE_TARGETS", "127.0.0.1")
    monkeypatch.delenv("LENDHUB_REDIS_URL", raising=False)
    runner = CliRunner()

    def invoke(*args: str):
        return runner.invoke(subscriptions, list(args), catch_exceptions=False)

    return invoke


def test_add_list_disable_enable_rotate_and_deliveries(cli):
    added = cli(
        "add",
        "partner-a",
        "--url",
        "http://127.0.0.1:9/hook",
        "--event",
        "loan.*",
        "--event",
        "repayment_*",
        "--json",
    )
    assert added.exit_code == 0, added.output
    created = json.loads(added.stdout)
    assert created["secret"].startswith("whsec_") and created["event_types"] == ["loan.*", "repayment_*"]
    assert "not shown again" in added.stderr
    human = cli("add", "partner-b", "--url", "http://127.0.0.1:9/b", "--event", "*")
    assert human.exit_code == 0 and "secret (shown only now): whsec_" in human.stdout

    listed = cli("list", "--json")
    assert listed.exit_code == 0 and created["secret"] not in listed.output
    assert [item["name"] for item in json.loads(listed.output)] == ["partner-a", "partner-b"]
    row = next(line for line in cli("list").output.splitlines() if line.startswith("partner-a"))
    assert row.split()[:2] == ["partner-a", "http://127.0.0.1:9/hook"] and "loan.*, repayment_*" in row
    assert "enabled" in row

    assert cli("disable", "partner-a", "--reason", "partner asked").exit_code == 0
    assert "disabled: partner asked" in cli("list").output
    assert cli("enable", "partner-a").exit_code == 0
    assert "disabled" not in cli("list").output.split("partner-a", 1)[1].splitlines()[0]

    rotated = cli("rotate-secret", "partner-a", "--overlap-hours", "1", "--json")
    assert rotated.exit_code == 0
    assert json.loads(rotated.stdout)["secret"] not in (created["secret"], "")
    shown = cli("rotate-secret", "partner-a", "--overlap-hours", "1")
    assert "secret (shown only now): whsec_" in shown.stdout
    assert "previous secret retired" in cli("retire-secret", "partner-a").output
    assert "no rotation was in progress" in cli("retire-secret", "partner-a").output

    assert "partner-a: no deliveries" in cli("deliveries", "partner-a").output
    assert json.loads(cli("deliveries", "partner-a", "--json", "--status", "dead").output) == []


@pytest.mark.parametrize(
    ("args", "words"),
    [
        (("add", "x", "--url", "http://10.0.0.1/", "--event", "*"), "private address"),
        (("add", "x", "--url", "file:///etc/passwd", "--event", "*"), "only http and https"),
        (("add", "x", "--url", "http://127.0.0.1/", "--event", "bad..type"), "invalid event types"),
        (("add", "Bad Name", "--url", "http://127.0.0.1/", "--event", "*"), "invalid name"),
        (("disable", "nope"), "no webhook subscription 'nope'"),
        (("rotate-secret", "nope"), "no webhook subscription"),
        (("deliveries", "nope"), "no webhook subscription"),
        (("redeliver", "nope", "d1"), "no webhook subscription"),
        (("deliveries", "x", "--status", "bogus"), "Invalid value"),
        (("rotate-secret", "x", "--overlap-hours", "-3"), "between 0 and 720"),
    ],
)
def test_bad_input_exits_non_zero_with_the_reason(cli, args, words):
    result = cli(*args)
    assert result.exit_code != 0
    assert words in result.output


def test_a_duplicate_name_is_refused(cli):
    assert cli("add", "dup", "--url", "http://127.0.0.1:9/", "--event", "*").exit_code == 0
    again = cli("add", "dup", "--url", "http://127.0.0.1:9/", "--event", "*")
    assert again.exit_code == 1 and "exists" in again.output
