"""Checks on the identifiers a lender keys customers by, each failure with its own message.

The check-digit algorithms (GB 11643 for resident IDs, GB 32100 for USCCs, Luhn for cards) come
from python-stdnum; what is LendHub's own is which failure the officer is told about — a wrong
length, a wrong check character, a birth date that is not a real day, an unknown province, an age
outside the lender's limits — because "invalid ID" alone sends them back to the paper copy guessing.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date

from stdnum import luhn
from stdnum.cn import ric, uscc
from stdnum.exceptions import InvalidChecksum, InvalidComponent, InvalidFormat, InvalidLength, ValidationError

from core.pii import normalise

__all__ = [
    "FieldProblem",
    "PersonId",
    "age_on",
    "check_bank_card",
    "check_id_number",
    "check_mobile",
    "check_uscc",
]

# First two digits of a resident ID: the province-level divisions of GB/T 2260.
PROVINCES = frozenset(
    {11, 12, 13, 14, 15, 21, 22, 23, 31, 32, 33, 34, 35, 36, 37, 41, 42, 43, 44, 45, 46}
    | {50, 51, 52, 53, 54, 61, 62, 63, 64, 65, 71, 81, 82}
)
MOBILE = re.compile(r"^1[3-9]\d{9}$")


@dataclass
class FieldProblem(Exception):
    """One field's failure: a catalog code and the values its message needs."""

    code: str
    params: tuple[tuple[str, object], ...] = ()

    def as_error(self, field: str) -> dict[str, object]:
        """The entry of a problem's ``errors`` for ``field``."""
        return {"field": field, "code": self.code, "params": dict(self.params)}


@dataclass(frozen=True)
class PersonId:
    """What an 18-digit resident ID says about its holder."""

    number: str
    birth_date: date
    gender: str  # "male" or "female", from the parity of the sequence digit


def age_on(birth_date: date, day: date) -> int:
    """Completed years of age on ``day``."""
    return day.year - birth_date.year - ((day.month, day.day) < (birth_date.month, birth_date.day))


def check_id_number(value: str, *, today: date, min_age: int = 18, max_age: int = 100) -> PersonId:
    """The normalised ID and what it encodes, or the first rule it breaks.

    15-digit legacy numbers are refused rather than up-converted: they were withdrawn in 2013 and a
    lender keys a person by the number on their current card.
    """
    number = normalise("id_number", value)
    if len(number) != 18:
        raise FieldProblem("customers.id_number_length", (("length", len(number)),))
    if not number[:17].isdigit() or not (number[17].isdigit() or number[17] == "X"):
        raise FieldProblem("customers.id_number_format")
    if int(number[:2]) not in PROVINCES:
        raise FieldProblem("customers.id_number_region", (("region", number[:2]),))
    try:
        born = ric.get_birth_date(number)
    except (InvalidComponent, ValueError):
        raise FieldProblem("customers.id_number_birth_date", (("digits", number[6:14]),)) from None
    if born > today:
        raise FieldProblem("customers.id_number_birth_date", (("digits", number[6:14]),))
    if ric.calc_check_digit(number) != number[17]:  # stdnum weighs the first 17 of the 18
        raise FieldProblem("customers.id_number_check_digit")
    age = age_on(born, today)
    if not min_age <= age <= max_age:
        raise FieldProblem("customers.age_out_of_range", (("age", age), ("min", min_age), ("max", max_age)))
    return PersonId(number=number, birth_date=born, gender="male" if int(number[16]) % 2 else "female")


def check_uscc(value: str) -> str:
    """The normalised unified social credit code (统一社会信用代码), or why it is not one."""
    code = value.strip().replace(" ", "").upper()
    if len(code) != 18:
        raise FieldProblem("customers.uscc_length", (("length", len(code)),))
    try:
        return str(uscc.validate(code))
    except InvalidChecksum:
        raise FieldProblem("customers.uscc_check_character") from None
    except (InvalidFormat, InvalidLength, InvalidComponent, ValidationError):
        raise FieldProblem("customers.uscc_format") from None


def check_mobile(value: str) -> str:
    """The 11-digit mainland mobile number (``+86``, spaces and dashes dropped), or why not."""
    number = normalise("mobile", value)
    given = value.strip().replace(" ", "")
    if given.startswith("+") and not given.startswith("+86"):
        raise FieldProblem("customers.mobile_format")
    if given.startswith("0086") and len(number) == 15:
        number = number[4:]
    if not MOBILE.match(number):
        raise FieldProblem("customers.mobile_format")
    return number


def check_bank_card(value: str) -> str:
    """The card or account number (16 to 19 digits, Luhn-valid), or why not."""
    number = normalise("bank_card", value)
    if not 16 <= len(number) <= 19 or not number.isdigit():
        raise FieldProblem("customers.bank_card_length", (("length", len(number)),))
    if not luhn.is_valid(number):
        raise FieldProblem("customers.bank_card_check_digit")
    return number
