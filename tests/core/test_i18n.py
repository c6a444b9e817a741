"""Message catalogs: the same codes in every language, and every code the code raises is in them."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from core.i18n import LANGUAGES, catalog, negotiate, translate

ROOT = Path(__file__).resolve().parents[2]
RAISED = re.compile(
    r"\b(?:Invalid|NotFound|Conflict|Unauthenticated|Forbidden|DomainError|AccountLocked)\(\s*\"([a-z_]+\.[a-z_.]+)\""
)


def test_every_language_has_the_same_codes():
    codes = [set(catalog(language)) for language in LANGUAGES]
    assert all(c == codes[0] for c in codes), {
        lang: c ^ codes[0] for lang, c in zip(LANGUAGES, codes, strict=True)
    }


def _raised_codes(root: Path) -> set[str]:
    found = set()
    for path in [*root.glob("core/**/*.py"), *root.glob("hub/**/*.py"), *root.glob("plugins/**/*.py")]:
        found |= set(RAISED.findall(path.read_text(encoding="utf-8")))
    return found


def test_every_code_the_domain_raises_has_a_message():
    raised = _raised_codes(ROOT)
    assert len(raised) > 10
    assert raised - set(catalog("zh-CN")) == set()


def test_the_raised_code_check_can_fail(tmp_path):
    (tmp_path / "core").mkdir()
    (tmp_path / "core" / "x.py").write_text('raise NotFound("access.no_such_message", name=1)\n')
    assert _raised_codes(tmp_path) - set(catalog("zh-CN")) == {"access.no_such_message"}


@pytest.mark.parametrize(
    ("header", "language"),
    [
        (None, "zh-CN"),
        ("en-US,en;q=0.9", "en"),
        ("zh-CN,zh;q=0.9,en;q=0.8", "zh-CN"),
        ("fr, en;q=0.5", "en"),
        ("de", "zh-CN"),
        ("en;q=0.2, zh;q=0.8", "zh-CN"),
        ("garbage;q=x", "zh-CN"),
    ],
)
def test_negotiate_picks_our_best_language(header, language):
    assert negotiate(header) == language


def test_translate_fills_values_and_falls_back_to_the_code():
    assert (
        translate("auth.forbidden", "en", permission="users.manage")
        == "Not permitted; this needs users.manage"
    )
    assert "users.manage" in translate("auth.forbidden", "zh-CN", permission="users.manage")
    assert translate("no.such.code", "en") == "no.such.code"


def test_area_files_join_the_catalog_and_a_code_defined_twice_is_refused(tmp_path):
    from core.i18n import load_catalog

    (tmp_path / "messages").mkdir()
    (tmp_path / "catalog.en.yaml").write_text("access.a: A\n")
    (tmp_path / "messages" / "crm.en.yaml").write_text("crm.b: B\n")
    assert load_catalog(tmp_path, "en") == {"access.a": "A", "crm.b": "B"}
    (tmp_path / "messages" / "other.en.yaml").write_text("crm.b: again\n")
    with pytest.raises(ValueError, match=r"crm\.b"):
        load_catalog(tmp_path, "en")
