"""Every operation of the API, driven by schemathesis over real HTTP against ``lendhub serve``.

Generated requests (valid and invalid) must get answers the OpenAPI document declares: a status
it lists, the content type it names, a body matching its schema, and never a 500. Run with an
admin token, so the locks let every request reach the route; the locks themselves are tested in
``tests/hub/access``.
"""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from netsupport import free_port, wait_http
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

LENDHUB = [sys.executable, "-c", "from hub.cli import main; main()"]
CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance, response_schema_conformance]


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, str]]:
    """A real hub on a free port with an empty SQLite database, and an admin API token."""
    home = tmp_path_factory.mktemp("contract")
    env = {k: v for k, v in os.environ.items() if not k.startswith("LENDHUB_")}
    env.update(LENDHUB_LOAD_PLUGINS="", LENDHUB_GC_THRESHOLD="0", PYTHONPATH=str(Path.cwd()))
    subprocess.run([*LENDHUB, "db", "upgrade"], cwd=home, env=env, check=True, capture_output=True)
    token = subprocess.run(
        [*LENDHUB, "tokens", "create", "--name", "contract", "--role", "admin"],
        cwd=home,
        env=env,
        check=True,
        capture_output=True,
        text=True,
    ).stdout.strip()
    port = free_port()
    server = subprocess.Popen(
        [*LENDHUB, "serve", "--port", str(port)],
        cwd=home,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    base = f"http://127.0.0.1:{port}"
    wait_http(f"{base}/healthz", server)
    try:
        yield base, token
    finally:
        server.terminate()
        server.wait(timeout=20)


def test_every_answer_is_one_the_document_declares(served: tuple[str, str]) -> None:
    base, token = served
    schema = schemathesis.openapi.from_url(f"{base}/openapi.json")
    headers = {"Authorization": f"Bearer {token}"}
    failures: list[str] = []
    calls: list[int] = []
    operations = [result.ok() for result in schema.get_all_operations()]
    assert len(operations) > 30

    for operation in operations:

        @given(case=operation.as_strategy())
        @settings(max_examples=6, deadline=None, suppress_health_check=list(HealthCheck), derandomize=True)
        def exercise(case: schemathesis.Case) -> None:
            response = case.call(base_url=base, headers=headers)
            calls.append(response.status_code)
            case.validate_response(response, checks=CHECKS)

        try:
            exercise()
        except (Exception, BaseExceptionGroup) as exc:  # every operation's failures, reported together
            failures.append(f"{operation.method.upper()} {operation.path}: {str(exc).splitlines()[0][:300]}")
    assert failures == [], "\n".join(failures)
    assert len(calls) > 3 * len(operations)  # every operation was really exercised, several times
    assert {200, 201, 404, 422} <= set(calls)  # successes and refusals both
