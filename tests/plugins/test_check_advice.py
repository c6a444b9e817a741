"""``connectors check`` gives each kind of failure its own advice."""

from __future__ import annotations

import pytest

from core.integrations.errors import (
    AuthError,
    CircuitOpen,
    EgressDenied,
    InvalidRequest,
    NotFound,
    QuotaExhausted,
    RateLimited,
    TransientError,
    VendorContractError,
)
from plugins.check_advice import advice_for

ERRORS = [
    (AuthError("x"), "rejected the credentials"),
    (QuotaExhausted("x"), "quota is used up"),
    (EgressDenied("x"), "does not declare"),
    (NotFound("x"), "'not found'"),
    (InvalidRequest("x"), "refused the check request itself"),
    (VendorContractError("x"), "not as the vendor does"),
    (RateLimited("x", retry_after=30), "rate-limiting this account"),
    (CircuitOpen("x", retry_after=12.4), "breaker open"),
    (TransientError("x"), "could not be reached"),
]


@pytest.mark.parametrize(("error", "words"), ERRORS)
def test_each_error_class_gets_its_own_advice(error, words):
    assert words in advice_for(error)


def test_no_two_classes_share_advice_and_waits_are_named():
    advice = [advice_for(error) for error, _ in ERRORS]
    assert len(set(advice)) == len(advice)
    assert "about 30 s" in advice_for(RateLimited("x", retry_after=30))
    assert "about 12 s" in advice_for(CircuitOpen("x", retry_after=12.4))
    assert "{after}" not in advice_for(RateLimited("x"))
