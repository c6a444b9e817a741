"""Real distributions with ``lendhub`` entry points, installed by pip, found by a real process.

The wheels are assembled by hand (``fake_dists``); pip then installs them into a temporary site
directory exactly as it would any plugin.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from fake_dists import build_wheel, pip_install

from core.hookspecs import HOOK_API_VERSION
from plugins.manager import DEFAULT_PLUGINS

ROOT = Path(__file__).resolve().parents[2]

HEALTHY = '''
from typing import ClassVar

import click
from pydantic import BaseModel

from core.integrations.base import Capability, ConnectorInfo, SupportLevel
from core.integrations.ports import CreditBureau
from plugins.sdk.markers import hookimpl

LENDHUB_HOOK_API = "1.0"


class AcmeConfig(BaseModel):
    base_url: str = "https://api.acme.example"


class AcmeBureau(CreditBureau):
    info: ClassVar[ConnectorInfo] = ConnectorInfo(
        slug="acme-bureau",
        name="Acme credit bureau",
        capability=Capability.CREDIT_BUREAU,
        vendor="Acme",
        vendor_api_version="v3",
        support_level=SupportLevel.PARTNER,
    )
    Config: ClassVar[type[BaseModel]] = AcmeConfig

    async def fetch_report(self, subject, *, authorization_id):
        raise NotImplementedError


@click.command(name="acme-sync")
def acme_sync():
    """Sync Acme."""


@hookimpl
def register_connectors(register):
    register(AcmeBureau)


@hookimpl
def register_commands(register):
    register(acme_sync)
'''

BROKEN_VARIANTS = {
    # distribution: (module source, expected reason prefix)
    "lendhub-broken-import": (
        'raise ImportError("needs acme-vendor-sdk>=2")\n',
        "failed to import: ImportError: needs acme-vendor-sdk>=2",
    ),
    "lendhub-squat": (  # a built-in's slug; clashes between third parties: test_slug_squatting
        HEALTHY.replace('slug="acme-bureau"', 'slug="pboc-credit"'),
        "register_connectors: connector slug 'pboc-credit' is reserved for LendHub's built-in connectors",
    ),
    "lendhub-typo": (
        "from plugins.sdk.markers import hookimpl\n\n"
        "@hookimpl\ndef register_conectors(register):\n    pass\n",
        "implements unknown hook 'register_conectors' (did you mean 'register_connectors'?)",
    ),
    "lendhub-future": (
        'LENDHUB_HOOK_API = "2.0"\n' + HEALTHY.replace('LENDHUB_HOOK_API = "1.0"', ""),
        f"declares hook API 2.0, incompatible with this host's {HOOK_API_VERSION}",
    ),
}


@pytest.fixture(scope="module")
def site_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    work = tmp_path_factory.mktemp("dists")
    wheels = [build_wheel(work, "lendhub-acme", "0.3.1", "acme_lendhub", HEALTHY, "acme")]
    for dist, (source, _) in BROKEN_VARIANTS.items():
        module = dist.replace("-", "_") + "_plugin"
        wheels.append(build_wheel(work, dist, "1.0.0", module, source, dist.removeprefix("lendhub-")))
    return pip_install(work / "site", *wheels)


def run_plugins(site: Path, cwd: Path, **env: str) -> subprocess.CompletedProcess[str]:
    """``lendhub plugins --json`` in a fresh process that sees ``site`` on its path."""
    environ = {key: value for key, value in os.environ.items() if not key.startswith("LENDHUB_")}
    environ.update(PYTHONPATH=os.pathsep.join([str(site), str(ROOT)]), **env)
    return subprocess.run(
        [sys.executable, "-c", "from hub.cli.plugins import plugins; plugins()", "--json"],
        cwd=cwd,
        env=environ,
        capture_output=True,
        text=True,
        timeout=120,
    )


def by_name(result: subprocess.CompletedProcess[str]) -> dict[str, Any]:
    assert result.returncode == 0, result.stderr
    return {plugin["name"]: plugin for plugin in json.loads(result.stdout)}


def test_installed_plugins_are_discovered_listed_and_broken_ones_quarantined(
    site_dir: Path, tmp_path: Path
) -> None:
    report = by_name(run_plugins(site_dir, tmp_path))

    acme = report["acme"]
    assert (acme["distribution"], acme["version"], acme["status"]) == ("lendhub-acme", "0.3.1", "loaded")
    assert acme["builtin"] is False
    assert acme["hooks"] == ["register_commands", "register_connectors"]
    assert acme["commands"] == ["acme-sync"]
    assert acme["connectors"] == [
        {
            "slug": "acme-bureau",
            "name": "Acme credit bureau",
            "capability": "credit_bureau",
            "vendor": "Acme",
            "vendor_api_version": "v3",
            "support_level": "partner",
            "instances": [],
        }
    ]
    assert report["plugins.defaults"]["status"] == "loaded"

    for dist, (_, reason) in BROKEN_VARIANTS.items():
        plugin = report[dist.removeprefix("lendhub-")]
        assert plugin["distribution"] == dist
        assert plugin["status"] == "quarantined", plugin
        assert plugin["reason"].startswith(reason), plugin["reason"]
        assert plugin["connectors"] == []


def test_load_plugins_empty_loads_none(site_dir: Path, tmp_path: Path) -> None:
    report = by_name(run_plugins(site_dir, tmp_path, LENDHUB_LOAD_PLUGINS=""))
    assert list(report) == list(DEFAULT_PLUGINS)


def test_load_plugins_names_the_distributions_to_load(site_dir: Path, tmp_path: Path) -> None:
    report = by_name(run_plugins(site_dir, tmp_path, LENDHUB_LOAD_PLUGINS="lendhub_acme, lendhub-typo"))
    assert list(report) == [*DEFAULT_PLUGINS, "acme", "typo"]
    assert report["acme"]["status"] == "loaded"


def test_strict_mode_refuses_to_start_naming_the_plugin(site_dir: Path, tmp_path: Path) -> None:
    result = run_plugins(site_dir, tmp_path, LENDHUB_STRICT_PLUGINS="1")
    assert result.returncode == 1
    assert "plugins refused (LENDHUB_STRICT_PLUGINS=1)" in result.stderr
    assert "  broken-import: failed to import: ImportError" in result.stderr
    assert "  future: " in result.stderr  # every refused plugin, not only the first
    assert "Traceback" not in result.stderr and result.stderr.count("broken-import") == 1
    assert result.stdout == ""


def test_strict_mode_accepts_healthy_plugins(site_dir: Path, tmp_path: Path) -> None:
    report = by_name(
        run_plugins(site_dir, tmp_path, LENDHUB_STRICT_PLUGINS="1", LENDHUB_LOAD_PLUGINS="lendhub-acme")
    )
    assert report["acme"]["status"] == "loaded"
