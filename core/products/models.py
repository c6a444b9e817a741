"""The ``products`` table: one loan product (贷款产品) — its limits, price, methods and fees.

Amounts are ``Numeric(18, 2)`` and rates ``Numeric(9, 6)``: Decimal in Python on both
databases. Fees are small JSON objects (``{"kind": "rate", "value": "0.01"}``) because a
product has at most one of each and they are always read with it. ``version`` counts changes,
so a client can say which state it edited (``PATCH`` with ``version``) and a lost update is a 409.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from sqlalchemy import Boolean, Integer, Numeric, String
from sqlalchemy.orm import Mapped, mapped_column

from core.db import Base, JSONType, TimestampMixin, new_id

__all__ = ["Product"]


class Product(TimestampMixin, Base):
    """A loan product: what may be borrowed, for how long, at what price, repaid how.

    Not scoped by branch: every caller with ``products.read`` reads every product.
    """

    __tablename__ = "products"

    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_id)
    code: Mapped[str] = mapped_column(String(64), unique=True, nullable=False)
    name: Mapped[str] = mapped_column(String(200), nullable=False)
    min_amount: Mapped[Decimal] = mapped_column(Numeric(18, 2), nullable=False)
    max_amount: Mapped[Decimal] = mapped_column(Numeric(18, 2), nullable=False)
    terms_months: Mapped[list[int]] = mapped_column(JSONType, nullable=False)
    annual_rate: Mapped[Decimal] = mapped_column(Numeric(9, 6), nullable=False)
    repayment_methods: Mapped[list[str]] = mapped_column(JSONType, nullable=False)
    upfront_fee: Mapped[dict[str, Any] | None] = mapped_column(JSONType)
    periodic_fee: Mapped[dict[str, Any] | None] = mapped_column(JSONType)
    grace_periods: Mapped[int] = mapped_column(Integer, nullable=False, default=0)
    penalty_markup: Mapped[Decimal] = mapped_column(Numeric(9, 6), nullable=False, default=Decimal("0.5"))
    flow_key: Mapped[str | None] = mapped_column(String(100))
    active: Mapped[bool] = mapped_column(Boolean, nullable=False, default=True, index=True)
    version: Mapped[int] = mapped_column(Integer, nullable=False, default=1)
