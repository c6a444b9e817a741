import pytest

from hub.settings import SettingsError, load_settings


@pytest.fixture(autouse=True)
def _clean_env(monkeypatch):
    for name in ("DATABASE_URL", "REDIS_URL", "LOAD_PLUGINS", "WORKER_CONCURRENCY", "SECRET_KEY"):
        monkeypatch.delenv(f"LENDHUB_{name}", raising=False)
    monkeypatch.chdir("/")  # no stray .env


def test_defaults_are_embedded():
    settings = load_settings()
    assert settings.database_url.startswith("sqlite+aiosqlite://")
    assert settings.redis_url is None
    assert settings.plugin_allow_list is None


def test_invalid_settings_name_each_variable_and_expectation(monkeypatch):
    monkeypatch.setenv("LENDHUB_DATABASE_URL", "mysql://db")
    monkeypatch.setenv("LENDHUB_WORKER_CONCURRENCY", "lots")
    with pytest.raises(SettingsError) as info:
        load_settings()
    message = str(info.value)
    assert "LENDHUB_DATABASE_URL" in message and "postgresql+asyncpg://" in message
    assert "LENDHUB_WORKER_CONCURRENCY" in message


def test_secret_values_are_not_echoed_in_errors():
    with pytest.raises(SettingsError) as info:
        load_settings(secret_key=["do-not-echo"])
    assert "LENDHUB_SECRET_KEY" in str(info.value)
    assert "do-not-echo" not in str(info.value)


@pytest.mark.parametrize(
    ("raw", "expected"),
    [("", []), ("a", ["a"]), (" a , b ,", ["a", "b"])],
)
def test_load_plugins_comma_list(monkeypatch, raw, expected):
    monkeypatch.setenv("LENDHUB_LOAD_PLUGINS", raw)
    assert load_settings().plugin_allow_list == expected


def test_redis_url_scheme_checked(monkeypatch):
    monkeypatch.setenv("LENDHUB_REDIS_URL", "http://localhost:6379")
    with pytest.raises(SettingsError, match="LENDHUB_REDIS_URL"):
        load_settings()


@pytest.mark.parametrize("value", ["not/a/cidr", "127.0.0.1,bad host", "10.0.0.0/33", "-x.example", "a..b"])
def test_private_target_allow_list_is_validated_naming_the_variable(value):
    with pytest.raises(SettingsError) as caught:
        load_settings(outbound_allow_private_targets=value)
    assert "LENDHUB_OUTBOUND_ALLOW_PRIVATE_TARGETS" in str(caught.value)


@pytest.mark.parametrize(
    "value", ["", "*", "127.0.0.1", "10.0.0.0/8, ::1, [::1]", "partner.internal,localhost"]
)
def test_private_target_allow_list_accepts_hosts_addresses_and_networks(value):
    assert load_settings(outbound_allow_private_targets=value).outbound_allow_private_targets == value
