"""Meta-tests keeping the hook API honest: documented, in the docs, tested, versioned."""

from __future__ import annotations

import inspect
import re
from pathlib import Path

import pluggy
import pytest

from core import hookspecs
from plugins.hookdocs import REQUIRED_SECTIONS, hook_functions, render_markdown
from plugins.sdk.markers import PROJECT_NAME

ROOT = Path(__file__).resolve().parents[2]
DOCS = ROOT / "docs" / "plugin_hooks.md"
TESTS = ROOT / "tests"
HOOKS = sorted(hook_functions())


def hooks_without_tests(names: list[str], tests_dir: Path) -> list[str]:
    """Hook names that appear in no ``def test_*<name>*`` function under ``tests_dir``."""
    source = "\n".join(path.read_text(encoding="utf-8") for path in tests_dir.rglob("test_*.py"))
    return [name for name in names if not re.search(rf"def test_\w*{re.escape(name)}\w*\(", source)]


def test_every_hook_has_a_test() -> None:
    assert hooks_without_tests(HOOKS, TESTS) == [], "write a test named test_..._<hook>_... for it"


def test_the_untested_hook_check_can_fail(tmp_path: Path) -> None:
    (tmp_path / "test_some.py").write_text("def test_register_routes_ok():\n    pass\n")
    assert hooks_without_tests(["register_routes", "loan_disbursed"], tmp_path) == ["loan_disbursed"]


def test_hook_groups_cover_every_hook_exactly_once() -> None:
    grouped = [
        *hookspecs.REGISTRATION_HOOKS,
        *hookspecs.EVENT_HOOKS,
        *hookspecs.INBOUND_HOOKS,
        *hookspecs.DECISION_HOOKS,
    ]
    assert sorted(grouped) == HOOKS


def test_hookspecs_load_into_a_fresh_pluggy_manager() -> None:
    pm = pluggy.PluginManager(hookspecs.PROJECT_NAME)
    pm.add_hookspecs(hookspecs)
    assert sorted(name for name in vars(pm.hook) if not name.startswith("_")) == HOOKS
    spec = pm.hook.select_connector_instance.spec
    assert spec is not None and spec.opts["firstresult"]


def test_core_and_sdk_agree_on_the_project_name() -> None:
    assert hookspecs.PROJECT_NAME == PROJECT_NAME == "lendhub"


def test_hook_api_version_is_major_minor() -> None:
    assert re.fullmatch(r"\d+\.\d+", hookspecs.HOOK_API_VERSION)


@pytest.mark.parametrize("name", HOOKS)
def test_hook_is_documented_with_every_section_and_argument(name: str) -> None:
    function = hookspecs.__dict__[name]
    doc = inspect.getdoc(function) or ""
    assert doc.splitlines() and doc.splitlines()[0].endswith("."), f"{name}: summary line missing"
    for section in REQUIRED_SECTIONS:
        assert re.search(rf"^{re.escape(section)}", doc, re.MULTILINE), f"{name}: no {section!r} section"
    for arg in inspect.signature(function).parameters:
        assert re.search(rf"^    {arg}: \S", doc, re.MULTILINE), f"{name}: argument {arg!r} not under Args:"
    assert re.search(r"^Added in: hook API \d+\.\d+", doc, re.MULTILINE), f"{name}: no version"


def test_docs_plugin_hooks_md_is_in_sync_with_the_hookspecs() -> None:
    expected = render_markdown()
    actual = DOCS.read_text(encoding="utf-8") if DOCS.exists() else ""
    assert actual == expected, (
        "docs/plugin_hooks.md is stale; regenerate it with: python -m plugins.hookdocs > docs/plugin_hooks.md"
    )


@pytest.mark.parametrize("name", HOOKS)
def test_docs_have_a_heading_with_each_hook_signature(name: str) -> None:
    args = ", ".join(inspect.signature(hookspecs.__dict__[name]).parameters)
    assert f"### {name}({args})" in DOCS.read_text(encoding="utf-8")
