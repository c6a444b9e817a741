"""``schemas.canonical`` re-exports every public name, and its reference doc is in step with it."""

from __future__ import annotations

import importlib
from pathlib import Path

import schemas.canonical
from plugins.canonicaldocs import MODULES, render_markdown

DOC = Path(__file__).resolve().parents[2] / "docs" / "canonical_models.md"


def test_every_public_name_of_every_canonical_module_is_re_exported():
    for module_name in MODULES:
        module = importlib.import_module(f"schemas.canonical.{module_name}")
        missing = [name for name in module.__all__ if name not in schemas.canonical.__all__]
        assert missing == [], f"schemas.canonical does not re-export {missing} of {module_name}"
    assert "CompanyStatus" in schemas.canonical.__all__


def test_docs_canonical_models_md_is_in_sync_with_the_models():
    assert DOC.read_text(encoding="utf-8") == render_markdown(), (
        "docs/canonical_models.md is stale; regenerate it with: "
        "python -m plugins.canonicaldocs > docs/canonical_models.md"
    )


def test_the_reference_documents_every_model_and_enum():
    text = render_markdown()
    for name in ("CreditReport", "CompanyStatus", "LitigationCase", "SignFlow", "Voucher", "RiskDecision"):
        assert f"### `{name}`" in text
