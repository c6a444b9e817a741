"""How each class of personal data is shown to someone who may not see it in clear.

Patterns follow common practice in Chinese financial software (JR/T 0171, GB/T 35273): an ID
number keeps its first 6 and last 4 characters (region and check digits, enough to tell two
people apart on a call), a mobile its first 3 and last 4, a bank card its first 6 (the issuer)
and last 4, a name its surname, an address its first few characters. Anything else is starred.
"""

from __future__ import annotations

__all__ = ["mask"]

STAR = "*"


def _keep(value: str, head: int, tail: int) -> str:
    if len(value) <= head + tail:
        return STAR * len(value) if len(value) > 2 else STAR * 2
    return value[:head] + STAR * (len(value) - head - tail) + value[len(value) - tail :]


def _name(value: str) -> str:
    if not value:
        return value
    if value.isascii():  # "Alice Smith" -> "A**** S****"
        return " ".join(part[:1] + STAR * (len(part) - 1) for part in value.split())
    surname = 2 if len(value) >= 4 else 1  # 欧阳娜娜 -> 欧阳**; 张三 -> 张*
    return value[:surname] + STAR * (len(value) - surname)


def mask(field_class: str, value: str) -> str:
    """``value`` masked by the rule of ``field_class`` (unknown classes are fully starred)."""
    if field_class == "id_number":
        return _keep(value, 6, 4)
    if field_class == "mobile":
        return _keep(value, 3, 4)
    if field_class == "bank_card":
        return _keep(value, 6, 4)
    if field_class == "name":
        return _name(value)
    if field_class == "address":
        keep = min(6, max(0, len(value) // 3))
        return value[:keep] + STAR * 4
    return STAR * 8
