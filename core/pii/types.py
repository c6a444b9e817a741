"""The PII field type: sealed in the database, masked everywhere it is shown.

A column declared ``mapped_column(Sealed("mobile"))`` stores ciphertext (see ``keyring``) and loads
as a :class:`PII` value, whose ``str``, ``repr`` and ``masked`` all give the masked form. The clear
value is only had by calling ``reveal()``, which services do after checking the caller's reveal
permission and writing an audit entry, so a log line, an f-string or a forgotten field in a
response can never leak it.

Whole documents that may hold personal data somewhere inside (a partner's webhook body, its parsed
payload) are sealed as one value by ``SealedBytes`` and ``SealedJSON``, which load as the clear
bytes or JSON: such a document has no masked form (its fields' classes are unknown), and the code
reading it, a replay or a plugin, needs all of it. Both subclass ``Sealed`` and store the same
``pii1:<kid>:…`` text, so ``isinstance(column.type, Sealed)`` finds every sealed column (``lendhub
keys rotate`` does) and ``KeyRing.kid_of``/``open``/``seal`` with ``column.type.field_class``
re-seal any of them.
"""

from __future__ import annotations

import json
import re
from typing import Any

from sqlalchemy import Dialect, Text, TypeDecorator

from .keyring import current
from .masking import mask

__all__ = ["PII", "Sealed", "SealedBytes", "SealedJSON", "blind_index", "normalise"]


class PII:
    """A personal value of one class; masked unless explicitly revealed."""

    __slots__ = ("_value", "field_class")

    def __init__(self, field_class: str, value: str) -> None:
        self.field_class = field_class
        self._value = value

    @property
    def masked(self) -> str:
        """The value as people without the reveal permission see it."""
        return mask(self.field_class, self._value)

    def reveal(self) -> str:
        """The clear value; call only after the reveal permission is checked and audited."""
        return self._value

    def __str__(self) -> str:
        return self.masked

    def __repr__(self) -> str:
        return f"PII({self.field_class}, {self.masked!r})"

    def __eq__(self, other: object) -> bool:
        if isinstance(other, PII):
            return (self.field_class, self._value) == (other.field_class, other._value)
        return NotImplemented

    def __hash__(self) -> int:
        return hash((self.field_class, self._value))


_NON_DIGITS = re.compile(r"\D")


def normalise(field_class: str, value: str) -> str:
    """The form equal values share before they are indexed (spaces, case, +86 ignored)."""
    value = value.strip()
    if field_class in ("mobile", "bank_card"):
        digits = _NON_DIGITS.sub("", value)
        if field_class == "mobile" and len(digits) == 13 and digits.startswith("86"):
            digits = digits[2:]
        return digits
    if field_class == "id_number":
        return value.replace(" ", "").upper()
    return " ".join(value.split())


def blind_index(field_class: str, value: str | PII) -> str:
    """The exact-match search key of a value, under the process's index key."""
    clear = value.reveal() if isinstance(value, PII) else value
    return current().blind_index(field_class, normalise(field_class, clear))


class Sealed(TypeDecorator[PII]):
    """A text column holding one class of PII, sealed with the process's key ring."""

    impl = Text
    cache_ok = True

    def __init__(self, field_class: str) -> None:
        super().__init__()
        self.field_class = field_class

    def process_bind_param(self, value: Any, dialect: Dialect) -> str | None:
        """Seal a ``PII`` or ``str`` on its way to the database."""
        if value is None:
            return None
        clear = value.reveal() if isinstance(value, PII) else str(value)
        return current().seal(clear.encode("utf-8"), self.field_class)

    def process_result_value(self, value: str | None, dialect: Dialect) -> PII | None:
        """Open a stored value into a masked ``PII``."""
        if value is None:
            return None
        return PII(self.field_class, current().open(value, self.field_class).decode("utf-8"))


class SealedBytes(Sealed):
    """A text column holding bytes sealed whole (a raw webhook body); loads as the clear bytes."""

    cache_ok = True

    def process_bind_param(self, value: Any, dialect: Dialect) -> str | None:
        """Seal ``bytes`` on their way to the database."""
        if value is None:
            return None
        return current().seal(bytes(value), self.field_class)

    def process_result_value(self, value: str | None, dialect: Dialect) -> Any:
        """The clear bytes of a stored value."""
        if value is None:
            return None
        return current().open(value, self.field_class)


class SealedJSON(Sealed):
    """A text column holding a JSON document sealed whole (a webhook payload); loads as the JSON value.

    Encoded compactly and as UTF-8 rather than ASCII escapes (a Chinese name is 3 bytes a character,
    not 6) before sealing: the ciphertext, and the AES work, grow with the encoded size.
    """

    cache_ok = True

    def process_bind_param(self, value: Any, dialect: Dialect) -> str | None:
        """Encode and seal a JSON value on its way to the database."""
        if value is None:
            return None
        encoded = json.dumps(value, ensure_ascii=False, separators=(",", ":")).encode("utf-8")
        return current().seal(encoded, self.field_class)

    def process_result_value(self, value: str | None, dialect: Dialect) -> Any:
        """The JSON value of a stored one."""
        if value is None:
            return None
        return json.loads(current().open(value, self.field_class))
