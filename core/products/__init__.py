"""Loan products (贷款产品): limits, price, repayment methods and fees, and the schedules they quote.

``schedule`` builds repayment schedules (pure, Decimal, to the cent); ``apr`` annualises their
cost; ``rules`` says what a valid product is (rate cap, 砍头息); ``service`` creates, changes and
quotes; ``repository`` reads. Products are not scoped by branch.
"""

from .models import Product
from .repository import ProductQuery, list_products, product_by_code, product_by_id
from .rules import ProductDraft
from .schedule import Fee, FeeKind, Installment, RepaymentMethod, Schedule, Terms, build_schedule
from .service import create_product, deactivate_product, quote, update_product

__all__ = [
    "Fee",
    "FeeKind",
    "Installment",
    "Product",
    "ProductDraft",
    "ProductQuery",
    "RepaymentMethod",
    "Schedule",
    "Terms",
    "build_schedule",
    "create_product",
    "deactivate_product",
    "list_products",
    "product_by_code",
    "product_by_id",
    "quote",
    "update_product",
]
