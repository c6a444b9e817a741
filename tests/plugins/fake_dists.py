"""Fake third-party distributions for the plugin tests: real wheels, installed by a real pip.

A wheel is assembled by hand (a zip with a ``.dist-info``), because the venv's setuptools cannot
build one without the ``wheel`` package and the network is off; pip then installs it into a
temporary site directory exactly as it would any plugin. Not a test module.
"""

from __future__ import annotations

import base64
import hashlib
import subprocess
import sys
import textwrap
import zipfile
from pathlib import Path


def build_wheel(out: Path, dist: str, version: str, module: str, source: str, ep_name: str) -> Path:
    """A minimal pure-Python wheel with one module and one ``lendhub`` entry point."""
    stem = dist.replace("-", "_")
    info = f"{stem}-{version}.dist-info"
    files = {
        f"{module}.py": textwrap.dedent(source),
        f"{info}/METADATA": f"Metadata-Version: 2.1\nName: {dist}\nVersion: {version}\n",
        f"{info}/WHEEL": (
            "Wheel-Version: 1.0\nGenerator: lendhub-tests\nRoot-Is-Purelib: true\nTag: py3-none-any\n"
        ),
        f"{info}/entry_points.txt": f"[lendhub]\n{ep_name} = {module}\n",
    }
    record = []
    for name, text in files.items():
        data = text.encode()
        digest = base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b"=").decode()
        record.append(f"{name},sha256={digest},{len(data)}")
    record.append(f"{info}/RECORD,,")
    files[f"{info}/RECORD"] = "\n".join(record) + "\n"
    wheel = out / f"{stem}-{version}-py3-none-any.whl"
    with zipfile.ZipFile(wheel, "w") as archive:
        for name, text in files.items():
            archive.writestr(name, text)
    return wheel


def pip_install(site: Path, *wheels: Path) -> Path:
    """Install ``wheels`` into the directory ``site`` (no index, no dependencies); return it."""
    subprocess.run(
        [sys.executable, "-m", "pip", "install", "--quiet", "--no-deps", "--no-index", "--target", str(site)]
        + [str(wheel) for wheel in wheels],
        check=True,
        capture_output=True,
    )
    return site
