"""``lendhub connectors call``: one port operation by hand, arguments validated, audited with its purpose."""

from __future__ import annotations

import asyncio
import json

import pytest
from click.testing import CliRunner
from sqlalchemy import select

from core.audit import AuditEntry
from core.secretbox import generate_key
from hub.cli.connectors import connectors
from hub.database import make_engine, make_session_factory


@pytest.fixture
def run(engine, database_url, monkeypatch, tmp_path):
    monkeypatch.chdir(tmp_path)
    for name, value in {
        "LENDHUB_DATABASE_URL": database_url,
        "LENDHUB_SECRET_KEY": generate_key(),
        "LENDHUB_LOAD_PLUGINS": "",
    }.items():
        monkeypatch.setenv(name, value)
    monkeypatch.delenv("LENDHUB_CONNECTORS_FILE", raising=False)

    def invoke(*args: str):
        return CliRunner().invoke(connectors, list(args), catch_exceptions=False)

    assert invoke("add", "card", "--connector", "lendhub-scorecard").exit_code == 0
    return invoke


def _calls(database_url: str) -> list[AuditEntry]:
    async def read():
        engine = make_engine(database_url)
        try:
            async with make_session_factory(engine)() as session:
                return list(
                    (
                        await session.scalars(
                            select(AuditEntry).where(AuditEntry.action == "connectors.call")
                        )
                    ).all()
                )
        finally:
            await engine.dispose()

    return asyncio.run(read())


def test_without_an_operation_it_lists_the_ports_operations(run):
    listed = run("call", "card")
    assert listed.exit_code == 0 and "score" in json.loads(listed.output)


def test_a_call_prints_the_canonical_answer_and_is_audited_with_its_purpose(run, database_url):
    arguments = {
        "risk_input": {"application_id": "A-1", "features": {"worst_dpd_24m": 0, "debt_to_income": 0.3}}
    }
    result = run(
        "call", "card", "score", "--json", json.dumps(arguments), "--purpose", "try the card by hand"
    )
    assert result.exit_code == 0, result.output
    answer = json.loads(result.output)
    assert answer["application_id"] == "A-1" and "score" in answer
    [entry] = _calls(database_url)
    assert entry.after == {
        "operation": "score",
        "arguments": ["risk_input"],
        "purpose": "try the card by hand",
    }


@pytest.mark.parametrize(
    ("args", "words"),
    [
        (["call", "card", "score", "--json", "{}", "--purpose", "x"], "missing ['risk_input']"),
        (
            ["call", "card", "score", "--json", '{"risk_input": {}, "extra": 1}', "--purpose", "x"],
            "unknown ['extra']",
        ),
        (
            ["call", "card", "score", "--json", '{"risk_input": {"features": 3}}', "--purpose", "x"],
            "not valid",
        ),
        (["call", "card", "fly", "--purpose", "x"], "is not an operation"),
        (["call", "card", "score", "--json", "[1]", "--purpose", "x"], "expected a JSON object"),
        (["call", "card", "score", "--json", "{}"], "--purpose is required"),
        (["call", "nobody", "score", "--purpose", "x"], "nobody"),
    ],
)
def test_bad_calls_are_refused_in_one_line(run, args, words):
    result = run(*args)
    assert result.exit_code in (1, 2) and words in result.output, result.output
