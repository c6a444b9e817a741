"""Document types as data, and every message the context raises in both catalogs."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from core.documents import DEFAULT_DOCUMENT_TYPES, DocumentType, DocumentTypes
from core.documents.content import JPEG, PDF
from core.errors import Invalid
from core.i18n import catalog

ROOT = Path(__file__).resolve().parents[3]


def test_built_in_types_have_labels_in_both_languages():
    assert DEFAULT_DOCUMENT_TYPES.codes() == [
        "id_card_front",
        "id_card_back",
        "business_licence",
        "bank_statement",
        "income_proof",
        "contract",
        "other",
    ]
    front = DEFAULT_DOCUMENT_TYPES.get("id_card_front")
    assert front.label("zh-CN") == "身份证人像面" and front.label("en") == "ID card (photo side)"
    assert front.accepts(JPEG) and not front.accepts(
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    )


def test_a_lender_adds_types_from_data_with_their_own_labels():
    types = DocumentTypes.from_data(
        [
            {
                "code": "vehicle_licence",
                "content_types": [PDF, JPEG],
                "labels": {"zh-CN": "行驶证", "en": "Vehicle licence"},
            }
        ]
    )
    assert types.get("vehicle_licence").label("zh-CN") == "行驶证"
    with pytest.raises(Invalid) as caught:
        types.get("id_card_front")
    assert caught.value.params == {"doc_type": "id_card_front", "known": "vehicle_licence"}


@pytest.mark.parametrize(
    ("kinds", "message"),
    [
        ([DocumentType("a", (PDF,)), DocumentType("a", (PDF,))], "defined twice"),
        ([DocumentType("Bad-Code", (PDF,))], "lower_snake_case"),
        ([DocumentType("a", ())], "must accept"),
        ([DocumentType("a", ("text/html",))], "unknown: text/html"),
    ],
)
def test_malformed_registries_are_refused(kinds, message):
    with pytest.raises(ValueError, match=message):
        DocumentTypes(kinds)


def test_every_documents_code_has_a_message_in_both_languages():
    source = "\n".join(p.read_text(encoding="utf-8") for p in (ROOT / "core" / "documents").glob("*.py"))
    audit_actions = {"documents.upload", "documents.download", "documents.delete", "documents.purge"}
    codes = set(re.findall(r"\"(documents\.[a-z_]+)\"", source)) - audit_actions
    codes |= {f"documents.type.{code}" for code in DEFAULT_DOCUMENT_TYPES.codes()}
    assert len(codes) > 15
    for language in ("zh-CN", "en"):
        assert codes - set(catalog(language)) == set(), language


def test_the_read_schema_reads_a_document_row():
    from datetime import UTC, datetime

    from core.documents import Document
    from schemas.api.documents import DocumentRead

    row = Document(
        id="d1",
        owner_kind="customer",
        owner_record_id="c1",
        doc_type="other",
        filename="a.pdf",
        declared_type=None,
        detected_type=PDF,
        size=3,
        sha256="0" * 64,
        storage_backend="local",
        storage_key="customer/c1/d1",
        uploaded_by="user:li",
        created_at=datetime(2026, 1, 1, tzinfo=UTC),
    )
    body = DocumentRead.model_validate(row).model_dump()
    assert body["content_type"] == PDF and "storage_key" not in body and body["deleted_at"] is None


def test_a_declared_content_length_over_the_limit_is_refused_before_reading():
    from core.documents import TooLarge, UploadLimits
    from core.documents.service import refuse_oversize

    limits = UploadLimits(max_bytes=100)
    refuse_oversize(None, limits)
    refuse_oversize(100, limits)
    with pytest.raises(TooLarge) as caught:
        refuse_oversize(101, limits)
    assert caught.value.params == {"limit": 100, "limit_mb": "0"}
