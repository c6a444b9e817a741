from click.testing import CliRunner

from hub.cli.worker import worker


def test_worker_on_an_unreachable_database_exits_non_zero_naming_it(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("LENDHUB_DATABASE_URL", "postgresql+asyncpg://lender:s3cret@127.0.0.1:1/crm")
    monkeypatch.delenv("LENDHUB_REDIS_URL", raising=False)
    result = CliRunner().invoke(worker, [])
    assert result.exit_code != 0
    assert "postgresql+asyncpg://lender:***@127.0.0.1:1/crm" in result.output
    assert "s3cret" not in result.output


def test_worker_refuses_a_handlers_reference_that_is_not_a_registry(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    result = CliRunner().invoke(worker, ["--handlers", "os:sep"])
    assert result.exit_code == 2 and "is not a JobHandlers" in result.output
    result = CliRunner().invoke(worker, ["--handlers", "nonsense"])
    assert result.exit_code == 2 and "module:attribute" in result.output
