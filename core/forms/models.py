"""The ``form_versions`` table: each published version of a product's application form.

A row is written once and never changed: an application records the version it was validated
against, and that version must mean the same thing for the loan's whole life. A new version is a
new row with the next number.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import ForeignKey, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from core.db import Base, JSONType, UTCDateTime, new_id, utcnow

__all__ = ["FormVersion"]


class FormVersion(Base):
    """Version ``version`` (1, 2, 3 …) of the application form of one product.

    Attributes:
        json_schema: a JSON Schema (draft 2020-12) the submitted values must satisfy.
        rules: ``[{"name", "field", "expression", "message_code"}]`` cross-field rules in CEL.
        created_by: the audit name of who published it.
    """

    __tablename__ = "form_versions"
    __table_args__ = (UniqueConstraint("product_id", "version"),)

    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_id)
    product_id: Mapped[str] = mapped_column(ForeignKey("products.id"), nullable=False, index=True)
    version: Mapped[int] = mapped_column(Integer, nullable=False)
    json_schema: Mapped[dict[str, Any]] = mapped_column(JSONType, nullable=False)
    rules: Mapped[list[dict[str, Any]]] = mapped_column(JSONType, nullable=False)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, nullable=False)
    created_by: Mapped[str] = mapped_column(String(200), nullable=False)
