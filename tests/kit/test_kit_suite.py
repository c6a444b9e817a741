"""The conformance suite passes a good connector and fails broken ones for the right reason."""

from __future__ import annotations

from pathlib import Path
from typing import Any, ClassVar

import pytest
from kitvendor.connector import KitBureau
from kitvendor.simulator import SANDBOX_CONFIG

from plugins.sdk.sandbox import CLEAN_BORROWER
from plugins.testing import CHECKS, ConnectorTestSuite
from schemas.canonical import CreditReport, PersonSubject

pytest_plugins = ["pytester"]

HERE = Path(__file__).resolve().parent


async def fetch_clean(connector: Any) -> CreditReport:
    """The representative read: the clean borrower's report."""
    subject = PersonSubject(name=CLEAN_BORROWER.name, id_number=CLEAN_BORROWER.id_number)
    report: CreditReport = await connector.fetch_report(subject, authorization_id="AUTH-1")
    return report


class TestKitBureauConformance(ConnectorTestSuite):
    """The well-behaved demo connector passes every check."""

    connector = KitBureau
    config: ClassVar[dict[str, Any]] = dict(SANDBOX_CONFIG)
    fault_path = "/v1/reports"

    async def call(self, connector: Any) -> CreditReport:
        return await fetch_clean(connector)


SUITE_MODULE = """
from kitvendor.connector import {cls}
from kitvendor.simulator import SANDBOX_CONFIG
from plugins.testing import ConnectorTestSuite
from test_kit_suite import fetch_clean


class TestBroken(ConnectorTestSuite):
    connector = {cls}
    config = {config}
    fault_path = "/v1/reports"
    skip_checks = {skips}

    async def call(self, connector):
        return await fetch_clean(connector)
"""


def run_suite(
    pytester: pytest.Pytester,
    cls: str,
    *,
    config: str = "dict(SANDBOX_CONFIG)",
    skips: str = "{}",
    only: str = "",
) -> pytest.RunResult:
    """Run the suite inline on a kit connector variant; ``only`` is a ``-k`` expression."""
    pytester.syspathinsert(HERE)
    pytester.makeini("[pytest]\nasyncio_default_fixture_loop_scope = function\n")
    pytester.makepyfile(test_broken=SUITE_MODULE.format(cls=cls, config=config, skips=skips))
    return pytester.runpytest_inprocess("-p", "no:cacheprovider", "-q", *(["-k", only] if only else []))


def outcomes(result: pytest.RunResult) -> dict[str, str]:
    """check name → passed / failed / skipped, from the inline run's reports."""
    found: dict[str, str] = {}
    for report in result.reprec.getreports("pytest_runtest_logreport"):  # type: ignore[attr-defined]
        name = report.nodeid.rsplit("::", 1)[-1]
        if report.when == "call" or report.outcome != "passed":
            found[name] = report.outcome
    return found


def test_suite_names_every_check() -> None:
    assert sorted(CHECKS) == sorted(n for n in dir(ConnectorTestSuite) if n.startswith("test_"))


def test_base_class_itself_is_not_collected(pytester: pytest.Pytester) -> None:
    pytester.makeini("[pytest]\nasyncio_default_fixture_loop_scope = function\n")
    pytester.makepyfile("from plugins.testing import ConnectorTestSuite\n")
    result = pytester.runpytest_inprocess("-p", "no:cacheprovider")
    result.assert_outcomes()


def test_auth_failure_retried_fails_the_auth_check(pytester: pytest.Pytester) -> None:
    got = outcomes(run_suite(pytester, "RetriesAuthFailures", only="auth or canonical"))
    assert got["test_auth_failure_is_permanent"] == "failed"
    assert got["test_call_returns_canonical_model"] == "passed"


def test_logged_secret_fails_the_secrets_check(pytester: pytest.Pytester) -> None:
    result = run_suite(pytester, "LeaksItsKey", only="secrets or auth")
    got = outcomes(result)
    assert got["test_secrets_never_logged"] == "failed"
    assert got["test_auth_failure_is_permanent"] == "passed"
    result.stdout.fnmatch_lines(["*config secrets leaked: secret #1 in the log*"])


def test_plain_string_credential_fails_the_secretstr_check(pytester: pytest.Pytester) -> None:
    got = outcomes(run_suite(pytester, "PlainKeyBureau", only="secretstr"))
    assert got["test_config_secrets_are_secretstr"] == "failed"


def test_skip_with_reason_skips_and_without_reason_fails(pytester: pytest.Pytester) -> None:
    skips = "{'test_auth_failure_is_permanent': 'the vendor has no auth', 'test_timeout_is_transient': ' '}"
    got = outcomes(run_suite(pytester, "KitBureau", skips=skips))
    assert got["test_auth_failure_is_permanent"] == "skipped"
    assert got["test_timeout_is_transient"] == "failed"


def test_unknown_check_in_skip_checks_fails_metadata(pytester: pytest.Pytester) -> None:
    got = outcomes(run_suite(pytester, "KitBureau", skips="{'test_no_such_check': 'typo'}", only="metadata"))
    assert got["test_metadata_complete"] == "failed"


def test_wrong_credentials_fail_the_call_check(pytester: pytest.Pytester) -> None:
    got = outcomes(run_suite(pytester, "KitBureau", config="{'api_key': 'wrong-key-123'}", only="canonical"))
    assert got["test_call_returns_canonical_model"] == "failed"
