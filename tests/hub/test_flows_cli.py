"""``lendhub flows validate|publish``: every error with its path, line and message; publish as the
operator, save and publish together, against a database made by ``lendhub db upgrade``."""

from __future__ import annotations

import asyncio
import json
import shutil
from pathlib import Path

import pytest
from click.testing import CliRunner
from sqlalchemy import select

from core.audit import AuditEntry
from core.flows import versions
from core.flows.extensions import FlowCondition, FlowExtensions
from core.flows.models import FlowVersion
from core.secretbox import generate_key
from hub.cli import cli as lendhub
from hub.database import make_engine, make_session_factory
from plugins.manager import make_plugin_manager

EXAMPLES = Path(__file__).resolve().parents[2] / "docs" / "examples" / "flows"

BAD = """\
key: bad
name: 坏流程
stages:
  - id: first
    name: 初审
    kind: single
    assignees: {role: reviewer, pick: random}
    next:
      - when: "application.amont > 50000"
        to: board
      - to: approved
  - id: board
    name: 贷审会
    kind: committee
    assignees:
      users: [ca, cb]
    approvals: 3
    next: approved
"""


@pytest.fixture(autouse=True)
def no_extensions_left_behind():
    yield
    versions.install_extensions(FlowExtensions())


@pytest.fixture
def run(monkeypatch, tmp_path):
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("LENDHUB_DATABASE_URL", f"sqlite+aiosqlite:///{tmp_path / 'var' / 'lendhub.db'}")
    monkeypatch.setenv("LENDHUB_SECRET_KEY", generate_key())
    monkeypatch.setenv("LENDHUB_LOAD_PLUGINS", "")
    monkeypatch.setenv("LANG", "en_US.UTF-8")
    monkeypatch.delenv("LC_ALL", raising=False)
    monkeypatch.delenv("LC_MESSAGES", raising=False)
    monkeypatch.delenv("LENDHUB_REDIS_URL", raising=False)
    runner = CliRunner()

    def invoke(*args: str):
        return runner.invoke(lendhub, list(args), catch_exceptions=False)

    return invoke


def _write(tmp_path: Path, name: str, text: str) -> str:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return str(path)


def test_validate_passes_an_example_with_a_one_line_summary(run):
    result = run("flows", "validate", str(EXAMPLES / "consumer.yaml"))
    assert result.exit_code == 0, result.output
    assert result.stdout == f"{EXAMPLES / 'consumer.yaml'}: flow consumer is valid (2 stages)\n"


@pytest.mark.parametrize("name", ["consumer.yaml", "business.yaml", "committee.yaml"])
def test_every_example_flow_validates(run, name):
    assert run("flows", "validate", str(EXAMPLES / name)).exit_code == 0


def test_validate_prints_every_error_with_path_and_line_and_exits_1(run, tmp_path):
    path = _write(tmp_path, "bad.yaml", BAD)
    result = run("flows", "validate", path)
    assert result.exit_code == 1
    assert result.stdout.splitlines() == [
        "stages[0].assignees.pick (line 7): Unknown way to pick the decider; use one of: queue, round_robin, least_loaded",
        "stages[0].next[0].when (line 9): The condition uses application.amont, which is unknown; known: "
        "amount, channel, channel_partner, purpose, repayment_method, resubmissions, term_months, values",
        "stages[1].id (line 12): Stage board cannot be reached from the start, so it would never run",
        "stages[1].approvals (line 17): A whole number from 1 to 2",
    ]
    assert result.stderr == f"Error: {path}: 4 errors\n"


def test_validate_speaks_the_operators_language(run, tmp_path, monkeypatch):
    monkeypatch.setenv("LANG", "zh_CN.UTF-8")
    result = run("flows", "validate", _write(tmp_path, "bad.yaml", BAD))
    assert result.exit_code == 1
    assert result.stdout.splitlines()[3] == "stages[1].approvals (line 17): 须为 1 至 2 之间的整数"


def test_validate_json_lists_errors_with_code_params_and_message(run, tmp_path):
    path = _write(tmp_path, "bad.yaml", BAD)
    result = run("flows", "validate", path, "--json")
    assert result.exit_code == 1
    report = json.loads(result.stdout)
    assert (report["file"], report["valid"]) == (path, False)
    assert report["errors"][3] == {
        "field": "stages[1].approvals",
        "code": "flows.count_invalid",
        "params": {"min": 1, "max": 2, "line": 17},
        "message": "A whole number from 1 to 2",
    }
    assert [e["code"] for e in report["errors"]] == [
        "flows.pick_unknown",
        "flows.unknown_value",
        "flows.stage_unreachable",
        "flows.count_invalid",
    ]
    ok = run("flows", "validate", str(EXAMPLES / "committee.yaml"), "--json")
    assert ok.exit_code == 0
    assert json.loads(ok.stdout) == {
        "file": str(EXAMPLES / "committee.yaml"),
        "valid": True,
        "key": "committee",
        "stages": 2,
        "errors": [],
    }


def test_validate_reports_a_file_that_cannot_be_read_as_yaml(run, tmp_path):
    result = run(
        "flows", "validate", _write(tmp_path, "broken.yml", "key: x\nstages:\n  - id: a\n   name: b\n")
    )
    assert result.exit_code == 1
    assert result.stdout == (
        "(document) (line 4): The flow file cannot be read (line 4, column 4): "
        "expected <block end>, but found '<block mapping start>'\n"
    )


def test_validate_reads_json_by_its_suffix(run, tmp_path):
    result = run("flows", "validate", _write(tmp_path, "flow.json", "key: x\n"))
    assert result.exit_code == 1
    assert result.stdout.startswith("(document) (line 1): The flow file cannot be read (line 1, column 1)")


def test_validate_refuses_aliases_and_oversize_files(run, tmp_path):
    aliased = run("flows", "validate", _write(tmp_path, "a.yaml", "key: &k x\nname: *k\n"))
    assert aliased.exit_code == 1
    assert aliased.stdout.startswith("(document) (line 1): Anchors (&) and aliases (*) are not allowed")
    big = tmp_path / "big.yaml"
    big.write_bytes(b"key: x\n" + b"#" * (300 * 1024))
    result = run("flows", "validate", str(big))
    assert result.exit_code == 1
    assert result.stdout == "(document): The flow file is too large (301 KiB); at most 256 KiB\n"


def test_validate_a_missing_file_is_one_line(run, tmp_path):
    result = run("flows", "validate", str(tmp_path / "nope.yaml"))
    assert result.exit_code == 1
    assert result.stderr.startswith(f"Error: cannot read {tmp_path / 'nope.yaml'}")


def test_validate_checks_against_the_conditions_plugins_register(run, tmp_path, monkeypatch):
    text = (EXAMPLES / "consumer.yaml").read_text(encoding="utf-8")
    path = _write(tmp_path, "flow.yaml", text.replace("signals.risk_grade == 'high'", "checks.blacklisted"))
    refused = run("flows", "validate", path)
    assert refused.exit_code == 1
    assert "stages[0].rules[1].when (line 17): The condition uses checks.blacklisted" in refused.stdout

    def host_with_a_condition(**kwargs):
        host = make_plugin_manager(**kwargs)
        host.flow_extensions.register(FlowCondition("blacklisted", "on the blacklist", lambda facts: False))
        return host

    monkeypatch.setattr("hub.cli.flows.make_plugin_manager", host_with_a_condition)
    assert run("flows", "validate", path).exit_code == 0


def _rows(tmp_path: Path) -> tuple[list[FlowVersion], list[AuditEntry]]:
    async def read() -> tuple[list[FlowVersion], list[AuditEntry]]:
        engine = make_engine(f"sqlite+aiosqlite:///{tmp_path / 'var' / 'lendhub.db'}")
        try:
            async with make_session_factory(engine)() as session:
                flows = (await session.scalars(select(FlowVersion).order_by(FlowVersion.version))).all()
                entries = (
                    await session.scalars(
                        select(AuditEntry).where(AuditEntry.action.like("flows.%")).order_by(AuditEntry.seq)
                    )
                ).all()
                return list(flows), list(entries)
        finally:
            await engine.dispose()

    return asyncio.run(read())


def test_publish_saves_and_publishes_as_the_operator(run, tmp_path):
    assert run("db", "upgrade").exit_code == 0
    path = tmp_path / "business.yaml"
    shutil.copy(EXAMPLES / "business.yaml", path)

    first = run("flows", "publish", str(path))
    assert first.exit_code == 0, first.output
    assert first.stdout == "published flow business version 1\n"
    again = run("flows", "publish", str(path), "--json")
    assert again.exit_code == 0
    assert json.loads(again.stdout) == {
        "key": "business",
        "version": 1,
        "status": "published",
        "created": False,
    }

    path.write_text(path.read_text(encoding="utf-8").replace("hours: 48", "hours: 36"), encoding="utf-8")
    second = run("flows", "publish", str(path))
    assert second.stdout == "published flow business version 2\n"

    flows, entries = _rows(tmp_path)
    assert [(f.flow_key, f.version, f.status) for f in flows] == [
        ("business", 1, "superseded"),
        ("business", 2, "published"),
    ]
    assert flows[1].source == path.read_text(encoding="utf-8")
    assert flows[1].document["stages"][1]["sla"]["hours"] == 36
    assert all(f.created_by.startswith("operator:") and f.published_by == f.created_by for f in flows)
    assert [(e.action, e.target_id) for e in entries] == [
        ("flows.save", "business@1"),
        ("flows.publish", "business@1"),
        ("flows.save", "business@2"),
        ("flows.publish", "business@2"),
    ]


def test_publish_of_a_flow_with_errors_saves_nothing(run, tmp_path):
    assert run("db", "upgrade").exit_code == 0
    result = run("flows", "publish", _write(tmp_path, "bad.yaml", BAD))
    assert result.exit_code == 1
    assert result.stdout.splitlines()[0].startswith("stages[0].assignees.pick (line 7): ")
    assert _rows(tmp_path) == ([], [])
