"""Start-up and configuration failures: one or two lines naming the setting, exit 1, no traceback
unless ``--debug`` asks for it."""

from __future__ import annotations

import pytest
from click.testing import CliRunner

from hub.cli import cli

BAD = [
    ({"LENDHUB_SECRET_KEY": "short"}, "LENDHUB_SECRET_KEY"),
    ({"LENDHUB_AUTH_KEYS": "short"}, "LENDHUB_AUTH_KEYS"),
    ({"LENDHUB_PII_KEYS": "k1:short", "LENDHUB_PII_INDEX_KEY": "x"}, "LENDHUB_PII_KEYS"),
    ({"LENDHUB_PII_KEYS": "k1:" + "A" * 43}, "LENDHUB_PII_INDEX_KEY"),
    ({"LENDHUB_OUTBOUND_ALLOW_PRIVATE_TARGETS": "not/a/cidr"}, "LENDHUB_OUTBOUND_ALLOW_PRIVATE_TARGETS"),
    ({"LENDHUB_DATABASE_URL": "postgresql+asyncpg://nobody@127.0.0.1:1/none"}, "cannot use the database"),
]


@pytest.fixture
def run(monkeypatch, tmp_path):
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("LENDHUB_LOAD_PLUGINS", "")
    monkeypatch.setenv("LENDHUB_DEBUG", "")
    for name in ("LENDHUB_DATABASE_URL", "LENDHUB_SECRET_KEY", "LENDHUB_REDIS_URL"):
        monkeypatch.delenv(name, raising=False)

    def invoke(args, env):
        return CliRunner().invoke(cli, args, env=env)

    return invoke


@pytest.mark.parametrize("command", [["connectors", "list"], ["serve"], ["worker"], ["users", "bootstrap"]])
@pytest.mark.parametrize(("env", "named"), BAD)
def test_a_bad_setting_is_one_line_naming_it(run, command, env, named):
    result = run(command, env)
    assert result.exit_code == 1
    assert named in result.output and "Traceback" not in result.output
    assert len(result.output.strip().splitlines()) <= 3, result.output
    assert not isinstance(result.exception, Exception) or isinstance(result.exception, SystemExit)


def test_debug_shows_the_traceback(run):
    result = run(["--debug", "connectors", "list"], {"LENDHUB_SECRET_KEY": "short"})
    assert result.exit_code == 1
    assert result.exception is not None and "LENDHUB_SECRET_KEY" in str(result.exception)
