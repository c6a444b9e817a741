"""Customers: persons and enterprises, their identifiers checked, sealed and searchable, their graph.

``service`` registers and changes customers, ``graph`` relates and merges them, ``repository``
reads them within the caller's scope, ``view360`` composes the one-call view.
"""

from .models import CHANNELS, Customer, CustomerKind, CustomerRelation, RelationKind

__all__ = ["CHANNELS", "Customer", "CustomerKind", "CustomerRelation", "RelationKind"]
