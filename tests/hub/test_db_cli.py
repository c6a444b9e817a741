from click.testing import CliRunner

from hub.cli.db import db


def test_db_upgrade_migrates_the_configured_database(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("LENDHUB_DATABASE_URL", f"sqlite+aiosqlite:///{tmp_path / 'var' / 'lendhub.db'}")
    result = CliRunner().invoke(db, ["upgrade"])
    assert result.exit_code == 0, result.output
    assert "upgraded to head" in result.output
    assert (tmp_path / "var" / "lendhub.db").exists()


def test_db_upgrade_on_an_unreachable_database_exits_non_zero_naming_it(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("LENDHUB_DATABASE_URL", "postgresql+asyncpg://lender:s3cret@127.0.0.1:1/crm")
    result = CliRunner().invoke(db, ["upgrade"])
    assert result.exit_code != 0
    assert "postgresql+asyncpg://lender:***@127.0.0.1:1/crm" in result.output
    assert "s3cret" not in result.output


def test_db_upgrade_reports_a_bad_setting(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("LENDHUB_DATABASE_URL", "mysql://nope")
    result = CliRunner().invoke(db, ["upgrade"])
    assert result.exit_code != 0 and "LENDHUB_DATABASE_URL" in result.output
