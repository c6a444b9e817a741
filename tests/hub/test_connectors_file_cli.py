"""``lendhub connectors list`` says which entries of the connectors file were skipped, and why."""

from __future__ import annotations

from click.testing import CliRunner

from core.secretbox import generate_key
from hub.cli.connectors import connectors


def test_connectors_list_reports_every_skipped_entry_of_the_file(engine, database_url, monkeypatch, tmp_path):
    monkeypatch.chdir(tmp_path)
    path = tmp_path / "connectors.yaml"
    path.write_text(
        "connectors:\n"
        "  - {connector: tianyancha-litigation, config: {}}\n"
        "  - {name: tyc, connector: tianyancha-litigation, config: {base_url: 'not a url', token: t}}\n"
        "  - {name: gone, connector: no-such-connector}\n",
        encoding="utf-8",
    )
    env = {
        "LENDHUB_DATABASE_URL": database_url,
        "LENDHUB_SECRET_KEY": generate_key(),
        "LENDHUB_CONNECTORS_FILE": str(path),
        "LENDHUB_LOAD_PLUGINS": "",
    }
    result = CliRunner().invoke(connectors, ["list"], env=env, catch_exceptions=False)
    assert result.exit_code == 0, result.output
    problems = [line for line in result.output.splitlines() if line.startswith("problem:")]
    assert len(problems) == 3, result.output
    assert (
        "needs at least 'name'" in problems[0] and "tyc" in problems[1] and "no-such-connector" in problems[2]
    )
