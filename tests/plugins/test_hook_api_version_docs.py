"""One source of truth for the hook API version: the scaffold, the docs and hookspecs agree."""

from __future__ import annotations

import re
from pathlib import Path

from core.hookspecs import HOOK_API_VERSION
from hub.scaffold import scaffold

ROOT = Path(__file__).resolve().parents[2]
DECLARED = re.compile(r'LENDHUB_HOOK_API = "(\d+\.\d+)"')


def test_docs_name_only_the_current_hook_api_version():
    for path in [ROOT / "README.md", *(ROOT / "docs").glob("*.md")]:
        for version in DECLARED.findall(path.read_text(encoding="utf-8")):
            assert version == HOOK_API_VERSION, f"{path.name} declares hook API {version}"


def test_the_scaffold_declares_the_current_hook_api_version(tmp_path):
    root = scaffold("acme", "credit_bureau", tmp_path)
    plugin = (root / "lendhub_acme" / "plugin.py").read_text(encoding="utf-8")
    assert DECLARED.findall(plugin) == [HOOK_API_VERSION]
