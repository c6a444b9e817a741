"""Document types as data: a code, the content types it accepts, labels from the catalog.

The built-in registry covers what a lender collects before a loan; a lender adds its own with
``DocumentTypes.from_data`` (a list of ``{"code", "content_types", "labels"}`` mappings, e.g. read
from YAML), and every code is refused when malformed, repeated, or allowing a content type we
cannot recognise from the bytes (an allowance nothing could ever satisfy).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

from core.errors import Invalid
from core.i18n import translate

from .content import CONTENT_TYPES, JPEG, OFD, PDF, PNG, XLSX
from .errors import UnsupportedContent

__all__ = ["DEFAULT_DOCUMENT_TYPES", "DocumentType", "DocumentTypes"]

_CODE = re.compile(r"^[a-z][a-z0-9_]{0,49}$")

_IMAGES_OR_PDF = (PDF, JPEG, PNG)


@dataclass(frozen=True)
class DocumentType:
    """One kind of document.

    Attributes:
        code: stable English code (``id_card_front``); travels in the API and the gate rules.
        content_types: the detected content types this kind accepts.
        labels: per-language labels overriding the catalog's ``documents.type.<code>``.
    """

    code: str
    content_types: tuple[str, ...]
    labels: Mapping[str, str] = field(default_factory=dict)

    def label(self, language: str) -> str:
        """The label in ``language``: its own, else the catalog's, else the code."""
        return self.labels.get(language) or translate(f"documents.type.{self.code}", language)

    def accepts(self, content_type: str) -> bool:
        """Whether a document of this type may hold content of ``content_type``."""
        return content_type in self.content_types

    def _not_allowed(self, content_type: str) -> UnsupportedContent:
        return UnsupportedContent(
            "documents.type_not_allowed",
            doc_type=self.code,
            content_type=content_type,
            allowed=", ".join(self.content_types),
        )

    def check_declared(self, declared: str | None) -> None:
        """Refuse, before a byte is read, a declared type this document type never takes (415)."""
        if declared is not None and not self.accepts(declared):
            raise self._not_allowed(declared)

    def check_content(self, declared: str | None, extension: str | None, detected: str | None) -> str:
        """The detected type, once it is recognised, the claims about it are true and it is accepted.

        Args:
            declared: the normalised declared type (``None``: no claim).
            extension: the filename's extension (``None``: none).
            detected: what ``content.detect`` read from the bytes.

        Raises:
            UnsupportedContent: unrecognised content, or a type this document type does not take.
            Invalid: the declared type or the extension names another type than the content's.
        """
        if detected is None:
            raise UnsupportedContent("documents.unrecognised_content", accepted=", ".join(self.content_types))
        if declared is not None and declared != detected:
            raise Invalid(
                "documents.declared_mismatch",
                errors=[{"field": "content_type", "code": "documents.declared_mismatch"}],
                declared=declared,
                detected=detected,
            )
        if extension is not None and extension not in CONTENT_TYPES[detected]:
            raise Invalid(
                "documents.extension_mismatch",
                errors=[{"field": "filename", "code": "documents.extension_mismatch"}],
                extension=extension,
                detected=detected,
            )
        if not self.accepts(detected):
            raise self._not_allowed(detected)
        return detected


class DocumentTypes:
    """The known document types by code; refuses malformed, repeated or unsatisfiable entries."""

    def __init__(self, types: Iterable[DocumentType]) -> None:
        self._by_code: dict[str, DocumentType] = {}
        for kind in types:
            if not _CODE.match(kind.code):
                raise ValueError(f"document type code {kind.code!r} must be lower_snake_case, 1-50 chars")
            if kind.code in self._by_code:
                raise ValueError(f"document type {kind.code!r} is defined twice")
            unknown = [ct for ct in kind.content_types if ct not in CONTENT_TYPES]
            if not kind.content_types or unknown:
                raise ValueError(
                    f"document type {kind.code!r} must accept some of {', '.join(CONTENT_TYPES)}"
                    + (f"; unknown: {', '.join(unknown)}" if unknown else "")
                )
            self._by_code[kind.code] = kind

    @classmethod
    def from_data(cls, data: Iterable[Mapping[str, Any]]) -> DocumentTypes:
        """Build a registry from plain data (``code``, ``content_types``, optional ``labels``)."""
        kinds = []
        for entry in data:
            kinds.append(
                DocumentType(
                    code=str(entry["code"]),
                    content_types=tuple(str(ct) for ct in entry["content_types"]),
                    labels={str(k): str(v) for k, v in (entry.get("labels") or {}).items()},
                )
            )
        return cls(kinds)

    def get(self, code: str) -> DocumentType:
        """The type named ``code``; an unknown code is refused naming the known ones."""
        kind = self._by_code.get(code)
        if kind is None:
            raise Invalid(
                "documents.unknown_type",
                errors=[{"field": "doc_type", "code": "documents.unknown_type"}],
                doc_type=code,
                known=", ".join(self._by_code),
            )
        return kind

    def __contains__(self, code: object) -> bool:
        return code in self._by_code

    def __iter__(self) -> Iterator[DocumentType]:
        return iter(self._by_code.values())

    def codes(self) -> list[str]:
        """Every code, in registration order."""
        return list(self._by_code)


DEFAULT_DOCUMENT_TYPES = DocumentTypes(
    [
        DocumentType("id_card_front", _IMAGES_OR_PDF),
        DocumentType("id_card_back", _IMAGES_OR_PDF),
        DocumentType("business_licence", (*_IMAGES_OR_PDF, OFD)),
        DocumentType("bank_statement", (PDF, OFD, XLSX)),
        DocumentType("income_proof", (*_IMAGES_OR_PDF, OFD)),
        DocumentType("contract", (PDF, OFD)),
        DocumentType("other", tuple(CONTENT_TYPES)),
    ]
)
