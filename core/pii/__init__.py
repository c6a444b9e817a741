"""Personal data protection: sealing at rest, blind indexes, masking, key rotation."""

from .keyring import KeyRing, KeyRingError, current, install, load_or_create_key_file
from .masking import mask
from .types import PII, Sealed, SealedBytes, SealedJSON, blind_index, normalise

__all__ = [
    "PII",
    "KeyRing",
    "KeyRingError",
    "Sealed",
    "SealedBytes",
    "SealedJSON",
    "blind_index",
    "current",
    "install",
    "load_or_create_key_file",
    "mask",
    "normalise",
]
