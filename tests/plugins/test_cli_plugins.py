"""``lendhub plugins [--json]`` through click's runner, reading settings from the environment."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from hub.cli.plugins import plugins
from plugins.manager import DEFAULT_PLUGINS


@pytest.fixture
def runner(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> CliRunner:
    monkeypatch.chdir(tmp_path)  # no stray .env from the checkout
    for name in ("LENDHUB_LOAD_PLUGINS", "LENDHUB_STRICT_PLUGINS", "LENDHUB_TRACE_PLUGINS"):
        monkeypatch.delenv(name, raising=False)
    return CliRunner()


def test_plugins_json_with_no_third_party_plugins_lists_the_builtins(runner: CliRunner) -> None:
    result = runner.invoke(plugins, ["--json"], env={"LENDHUB_LOAD_PLUGINS": ""})
    assert result.exit_code == 0, result.output
    report = json.loads(result.output)
    assert [(p["name"], p["status"], p["builtin"]) for p in report] == [
        (name, "loaded", True) for name in DEFAULT_PLUGINS
    ]
    assert report[0]["hooks"] == ["select_connector_instance"]


def test_plugins_table_shows_name_status_and_hooks(runner: CliRunner) -> None:
    result = runner.invoke(plugins, [], env={"LENDHUB_LOAD_PLUGINS": ""})
    assert result.exit_code == 0, result.output
    header, row = result.output.splitlines()[:2]
    assert header.split() == ["PLUGIN", "VERSION", "STATUS", "HOOKS"]
    assert row.split()[0] == "plugins.defaults"
    assert "loaded" in row and "select_connector_instance" in row


def test_plugins_reports_a_bad_setting_by_name(runner: CliRunner) -> None:
    result = runner.invoke(plugins, ["--json"], env={"LENDHUB_STRICT_PLUGINS": "maybe"})
    assert result.exit_code == 1
    assert "LENDHUB_STRICT_PLUGINS" in result.output


def test_plugins_notes_an_allow_listed_distribution_that_is_missing(runner: CliRunner) -> None:
    result = runner.invoke(plugins, [], env={"LENDHUB_LOAD_PLUGINS": "lendhub-not-installed"})
    assert result.exit_code == 0
    assert "'lendhub-not-installed' named in LENDHUB_LOAD_PLUGINS is not installed" in result.output


def test_plugins_table_lists_webhook_sources(runner: CliRunner) -> None:
    result = runner.invoke(plugins, [], env={"LENDHUB_LOAD_PLUGINS": ""})
    assert result.exit_code == 0, result.output
    assert "webhook source standard-webhooks: POST /webhooks/standard-webhooks/<instance>" in result.output
    assert "webhook source esign:" in result.output


def test_sandbox_dry_run_is_in_the_help() -> None:
    from hub.cli.sandbox import sandbox

    assert "--dry-run" in CliRunner().invoke(sandbox, ["--help"]).output


def test_naming_lendhub_itself_in_load_plugins_is_fine(runner: CliRunner) -> None:
    result = runner.invoke(plugins, [], env={"LENDHUB_LOAD_PLUGINS": "lendhub"})
    assert result.exit_code == 0, result.output
    assert "not installed" not in result.output
    assert "plugins.defaults" in result.output  # the built-ins loaded


def test_a_missing_distribution_is_warned_once_however_often_the_host_is_built(caplog) -> None:
    import logging
    import uuid

    from plugins.manager import make_plugin_manager

    missing = f"lendhub-missing-{uuid.uuid4().hex[:8]}"
    with caplog.at_level(logging.WARNING, logger="lendhub.plugins"):
        hosts = [make_plugin_manager(load_plugins=[missing]) for _ in range(3)]
    assert all(missing in " ".join(host.notes) for host in hosts)
    assert sum(missing in record.getMessage() for record in caplog.records) == 1
