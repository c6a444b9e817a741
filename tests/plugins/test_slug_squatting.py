"""The squatting attack, played as a vendor would: real distributions, the real CLI, a real database.

``lendhub-aaa-squat`` registers the slug of ``lendhub-acme``'s connector and sorts first by name.
Its ``Config`` and ``check_connection`` write whatever they are given to a file, so the tests see
at once whether the decrypted credentials ever reached it.
"""

from __future__ import annotations

import asyncio
import importlib
import json
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from click.testing import CliRunner, Result
from fake_dists import build_wheel, pip_install

from hub.cli import cli
from hub.database import upgrade_database

SECRET = "acme-live-key-5b2e"

CONNECTOR = """
import os
from typing import ClassVar

from pydantic import BaseModel, SecretStr, model_validator

from core.integrations.base import Capability, ConnectorInfo
from core.integrations.ports import CreditBureau
from plugins.sdk.markers import hookimpl

LENDHUB_HOOK_API = "1.0"


def leak(what):
    path = os.environ.get("SQUAT_LEAK")
    if LEAKS and path:
        with open(path, "a") as out:
            out.write(repr(what) + "\\n")


class AcmeConfig(BaseModel):
    base_url: str = "https://api.acme.example"
    api_key: SecretStr

    @model_validator(mode="before")
    @classmethod
    def _grab(cls, data):
        leak({k: v for k, v in data.items()})
        return data


class AcmeBureau(CreditBureau):
    info: ClassVar[ConnectorInfo] = ConnectorInfo(
        slug="acme-bureau", name=NAME, capability=Capability.CREDIT_BUREAU, vendor="Acme", vendor_api_version="v3"
    )
    Config: ClassVar[type[BaseModel]] = AcmeConfig

    async def check_connection(self):
        leak(self.config.api_key.get_secret_value())

    async def fetch_report(self, subject, *, authorization_id):
        raise NotImplementedError


@hookimpl
def register_connectors(register):
    register(AcmeBureau)
"""


@pytest.fixture(scope="module")
def sites(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    work = tmp_path_factory.mktemp("squat")
    rightful = CONNECTOR.replace("LEAKS and", "False and").replace("NAME", '"Acme credit bureau"')
    squatter = CONNECTOR.replace("LEAKS and", "True and").replace("NAME", '"Acme credit bureau"')
    return {
        "rightful": pip_install(
            work / "rightful", build_wheel(work, "lendhub-acme", "0.3.1", "rightful_acme", rightful, "acme")
        ),
        "squatter": pip_install(
            work / "squatter", build_wheel(work, "lendhub-aaa-squat", "6.6.6", "aaa_squat", squatter, "aaa")
        ),
    }


@contextmanager
def installed(*paths: Path) -> Iterator[None]:
    """Only these fake distributions are installed while the block runs."""
    sys.path[:0] = [str(path) for path in paths]
    importlib.invalidate_caches()
    try:
        yield
    finally:
        del sys.path[: len(paths)]
        importlib.invalidate_caches()


@pytest.fixture
def lendhub(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> CliRunner:
    monkeypatch.chdir(tmp_path)
    for name in ("LENDHUB_LOAD_PLUGINS", "LENDHUB_STRICT_PLUGINS", "LENDHUB_CONNECTORS_FILE"):
        monkeypatch.delenv(name, raising=False)
    url = f"sqlite+aiosqlite:///{tmp_path / 'lendhub.db'}"
    monkeypatch.setenv("LENDHUB_DATABASE_URL", url)
    monkeypatch.setenv("LENDHUB_SECRET_KEY_FILE", str(tmp_path / "secret.key"))
    monkeypatch.setenv("ACME_KEY", SECRET)
    monkeypatch.setenv("SQUAT_LEAK", str(tmp_path / "leak.txt"))
    asyncio.run(upgrade_database(url))
    return CliRunner()


def run(runner: CliRunner, *args: str) -> Result:
    return runner.invoke(cli, list(args), catch_exceptions=False)


def configure_acme_main(runner: CliRunner, sites: dict[str, Path]) -> None:
    with installed(sites["rightful"]):
        added = run(
            runner,
            "connectors",
            "add",
            "acme-main",
            "--connector",
            "acme-bureau",
            "--set-env",
            "api_key=ACME_KEY",
        )
    assert added.exit_code == 0, added.output
    assert json.loads(added.output)["owner"]["distribution"] == "lendhub-acme"


def test_a_squatter_that_sorts_first_gets_neither_the_slug_nor_the_credentials(
    lendhub: CliRunner, sites: dict[str, Path], tmp_path: Path
) -> None:
    configure_acme_main(lendhub, sites)

    with installed(sites["rightful"], sites["squatter"]):
        checked = run(lendhub, "connectors", "check", "acme-main")
        report = {p["name"]: p for p in json.loads(run(lendhub, "plugins", "--json").output)}

    assert checked.exit_code == 1
    assert "connector 'acme-bureau' is not registered by any loaded plugin" in checked.output
    assert not (tmp_path / "leak.txt").exists()
    assert (report["aaa"]["status"], report["acme"]["status"]) == ("quarantined", "quarantined")
    assert "also claimed by plugin 'aaa' (lendhub-aaa-squat 6.6.6)" in report["acme"]["reason"]
    assert "also claimed by plugin 'acme' (lendhub-acme 0.3.1)" in report["aaa"]["reason"]


def test_with_the_rightful_package_gone_the_squatter_gets_nothing_until_an_integrator_confirms_it(
    lendhub: CliRunner, sites: dict[str, Path], tmp_path: Path
) -> None:
    configure_acme_main(lendhub, sites)
    leak = tmp_path / "leak.txt"

    with installed(sites["squatter"]):
        checked = run(lendhub, "connectors", "check", "acme-main")
        table = run(lendhub, "plugins").output
        report = {p["name"]: p for p in json.loads(run(lendhub, "plugins", "--json").output)}
        listed = run(lendhub, "connectors", "list").output
        assert not leak.exists()
        confirmed = run(
            lendhub, "connectors", "confirm-owner", "acme-main", "--distribution", "lendhub-aaa-squat"
        )
        checked_after = run(lendhub, "connectors", "check", "acme-main")

    assert checked.exit_code == 1
    assert "OwnerChanged" in checked.output
    assert "now provided by lendhub-aaa-squat 6.6.6, not lendhub-acme 0.3.1 (>=0.3.1,<0.4)" in checked.output
    assert "confirm-owner acme-main" in checked.output
    changed = "OWNER CHANGED lendhub-acme 0.3.1 (>=0.3.1,<0.4) → lendhub-aaa-squat 6.6.6"
    assert f"instance acme-main: {changed}" in table
    assert changed in listed
    [instance] = report["aaa"]["connectors"][0]["instances"]
    assert instance["breaker"] == "owner_changed"
    assert instance["owner"] == "lendhub-acme 0.3.1"
    assert instance["owner_change"]["configured"] == "lendhub-acme 0.3.1 (>=0.3.1,<0.4)"
    assert instance["owner_change"]["current"] == "lendhub-aaa-squat 6.6.6"
    assert instance["owner_change"]["detected_at"] is not None

    assert confirmed.exit_code == 0, confirmed.output
    assert "lendhub-acme 0.3.1 (>=0.3.1,<0.4) → lendhub-aaa-squat 6.6.6 (>=6.6.6,<7)" in confirmed.output
    # The integrator trusted the new owner: from now on it is used, credentials and all.
    assert checked_after.exit_code == 0, checked_after.output
    assert SECRET in leak.read_text()
