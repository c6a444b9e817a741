"""What the scaffold writes for each capability, by capability slug.

The fragments live in :mod:`.capabilities_reads` and :mod:`.capabilities_writes`; their shape,
:class:`~hub.scaffold.spec.CapabilitySpec`, in :mod:`.spec`.
"""

from __future__ import annotations

from core.integrations.base import Capability

from .capabilities_reads import READ_SPECS
from .capabilities_writes import WRITE_SPECS
from .spec import CapabilitySpec

__all__ = ["SPECS", "CapabilitySpec"]

SPECS: dict[str, CapabilitySpec] = {cap.value: {**READ_SPECS, **WRITE_SPECS}[cap.value] for cap in Capability}
"""Every capability's fragments, in the order capabilities are declared."""
