"""``lendhub connector new``: the scaffolded package passes its own tests and installs as a plugin."""

from __future__ import annotations

import base64
import hashlib
import json
import os
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest
from click.testing import CliRunner

from core.integrations.base import Capability
from hub.cli.connector_new import connector
from hub.scaffold import ScaffoldError, scaffold
from plugins.testing.quality import validate_quality_file

ROOT = Path(__file__).resolve().parents[2]


def clean_env(**extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("LENDHUB_", "PYTEST_"))}
    env.update(extra)
    return env


def run_pytest(args: list[str], cwd: Path, pythonpath: list[Path]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", *args],
        cwd=cwd,
        env=clean_env(PYTHONPATH=os.pathsep.join(str(p) for p in pythonpath)),
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_every_capability_scaffolds_a_package_that_passes_its_tests_untouched(tmp_path: Path) -> None:
    roots = [scaffold(f"acme_{cap.name.lower()}", cap.value, tmp_path) for cap in Capability]
    for root in roots:
        package = root / root.name.replace("-", "_")
        assert validate_quality_file(package / "quality.yaml") == []
        for name in ("plugin.py", "connector.py", "client.py", "mapping.py", "simulator.py", "README.md"):
            assert (package / name).is_file(), name
        assert "[project.entry-points.lendhub]" in (root / "pyproject.toml").read_text(encoding="utf-8")
    result = run_pytest([str(root / "tests") for root in roots], tmp_path, [*roots, ROOT])
    assert result.returncode == 0, result.stdout[-4000:] + result.stderr[-2000:]
    assert " failed" not in result.stdout


def build_wheel(root: Path, out: Path) -> Path:
    """A wheel of the scaffolded package, assembled by hand (the venv has no ``wheel`` package)."""
    name = root.name.removeprefix("lendhub-")
    package = f"lendhub_{name}"
    info = f"lendhub_{name}-0.1.0.dist-info"
    files = {f"{package}/{p.name}": p.read_bytes() for p in sorted((root / package).iterdir()) if p.is_file()}
    files[f"{info}/METADATA"] = f"Metadata-Version: 2.1\nName: lendhub-{name}\nVersion: 0.1.0\n".encode()
    files[f"{info}/WHEEL"] = (
        b"Wheel-Version: 1.0\nGenerator: lendhub-tests\nRoot-Is-Purelib: true\nTag: py3-none-any\n"
    )
    files[f"{info}/entry_points.txt"] = f"[lendhub]\n{name} = {package}.plugin\n".encode()
    record = [
        f"{path},sha256={base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b'=').decode()},{len(data)}"
        for path, data in files.items()
    ]
    files[f"{info}/RECORD"] = ("\n".join([*record, f"{info}/RECORD,,"]) + "\n").encode()
    wheel = out / f"lendhub_{name}-0.1.0-py3-none-any.whl"
    with zipfile.ZipFile(wheel, "w") as archive:
        for path, data in files.items():
            archive.writestr(path, data)
    return wheel


def test_installed_scaffold_is_listed_by_lendhub_plugins_and_passes_the_suite(tmp_path: Path) -> None:
    root = scaffold("acmewheel", "credit_bureau", tmp_path / "src", vendor="Acme Wheel")
    wheel = build_wheel(root, tmp_path)
    site = tmp_path / "site"
    subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "install",
            "-q",
            "--no-deps",
            "--no-index",
            "--target",
            str(site),
            str(wheel),
        ],
        check=True,
        capture_output=True,
    )
    listed = subprocess.run(
        [sys.executable, "-c", "from hub.cli.plugins import plugins; plugins()", "--json"],
        cwd=tmp_path,
        env=clean_env(PYTHONPATH=os.pathsep.join([str(site), str(ROOT)])),
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert listed.returncode == 0, listed.stderr
    plugin = {p["name"]: p for p in json.loads(listed.stdout)}["acmewheel"]
    assert (plugin["distribution"], plugin["status"]) == ("lendhub-acmewheel", "loaded")
    assert [c["slug"] for c in plugin["connectors"]] == ["acmewheel-credit-bureau"]
    # The package's tests, run against the installed copy rather than the source tree.
    tests = shutil.copytree(root / "tests", tmp_path / "installed-tests")
    result = run_pytest([str(tests)], tmp_path, [site, ROOT])
    assert result.returncode == 0, result.stdout[-4000:] + result.stderr[-2000:]


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["Acme", "--capability", "credit_bureau"], "name 'Acme' must be 2-40 characters of lower-case"),
        (["acme-x", "--capability", "credit_bureau"], "name 'acme-x' must be"),
        (["acme", "--capability", "credit"], "capability 'credit' is not one of: credit_bureau, litigation"),
    ],
)
def test_bad_name_or_capability_is_refused_with_a_clear_error(
    tmp_path: Path, args: list[str], message: str
) -> None:
    result = CliRunner().invoke(connector, ["new", *args, "--dir", str(tmp_path)])
    assert result.exit_code == 2
    assert message in result.output
    assert list(tmp_path.iterdir()) == []


def test_existing_directory_is_never_overwritten(tmp_path: Path) -> None:
    (tmp_path / "lendhub-acme").mkdir()
    (tmp_path / "lendhub-acme" / "mine.txt").write_text("keep", encoding="utf-8")
    result = CliRunner().invoke(
        connector, ["new", "acme", "--capability", "litigation", "--dir", str(tmp_path)]
    )
    assert result.exit_code == 2
    assert "already exists; refusing to overwrite it" in result.output
    assert [p.name for p in (tmp_path / "lendhub-acme").iterdir()] == ["mine.txt"]
    with pytest.raises(ScaffoldError):
        scaffold("acme", "litigation", tmp_path)


def test_cli_creates_the_package_and_says_what_next(tmp_path: Path) -> None:
    result = CliRunner().invoke(
        connector, ["new", "acme", "--capability", "esignature", "--dir", str(tmp_path)]
    )
    assert result.exit_code == 0, result.output
    assert f"created {tmp_path / 'lendhub-acme'}" in result.output
    assert (tmp_path / "lendhub-acme" / "lendhub_acme" / "simulator.py").is_file()


def test_scaffold_names_hosts_and_test_extra_are_valid(tmp_path: Path) -> None:
    import re
    import tomllib

    root = scaffold("companies_house", "business_registry", tmp_path)
    assert root.name == "lendhub-companies-house"
    project = tomllib.loads((root / "pyproject.toml").read_text(encoding="utf-8"))
    assert project["project"]["name"] == "lendhub-companies-house"  # '-', as PyPI normalises it
    assert {"pytest>=8", "pytest-asyncio>=0.23"} <= set(project["project"]["optional-dependencies"]["test"])
    assert project["tool"]["pytest"]["ini_options"]["asyncio_mode"] == "auto"
    connector = (root / "lendhub_companies_house" / "connector.py").read_text(encoding="utf-8")
    hosts = re.findall(r'"(api\.[^"/]+)"', connector)
    label = re.compile(r"^(?!-)[a-z0-9-]{1,63}(?<!-)$")
    assert hosts and all(all(label.match(part) for part in host.split(".")) for host in hosts), hosts


def _longest_name(cap: Capability) -> str:
    """40 characters (the most allowed) and no '_': the longest class names, slugs and paths."""
    return f"{cap.value.replace('_', '')}{'x' * 40}"[:40]


@pytest.mark.parametrize("longest", [False, True], ids=["short-name", "longest-name"])
def test_scaffold_output_is_clean_under_ruffs_default_settings(tmp_path: Path, longest: bool) -> None:
    """A vendor's first ``ruff check`` / ``ruff format --check`` finds nothing to change.

    ``--isolated`` ignores every configuration file: the vendor's package has none yet, and the
    defaults (line length 88, isort grouping with LendHub's packages as third-party) are what
    a new project meets first.
    """
    names = {cap: _longest_name(cap) if longest else f"acme_{cap.name.lower()}" for cap in Capability}
    roots = [scaffold(name, cap.value, tmp_path) for cap, name in names.items()]
    for root in roots:
        for command in (["check", "--isolated", "--no-cache", "."], ["format", "--isolated", "--check", "."]):
            result = subprocess.run(
                [sys.executable, "-m", "ruff", *command],
                cwd=root,
                capture_output=True,
                text=True,
                timeout=60,
            )
            assert result.returncode == 0, f"{root.name}: ruff {command[0]}\n{result.stdout}{result.stderr}"
