"""`make run` takes its ports from variables (the README says how)."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.skipif(shutil.which("make") is None, reason="make is not installed")
def test_make_run_ports_are_variables():
    planned = subprocess.run(
        ["make", "-n", "-o", ".venv/.installed-stamp", "run", "PORT=8080", "SANDBOX_PORT=9200"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    assert "serve --host 127.0.0.1 --port 8080" in planned
    assert "sandbox --port 9200" in planned
    assert "8000" not in planned and "9100" not in planned
