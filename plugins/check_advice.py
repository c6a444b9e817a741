"""What an integrator should do when ``connectors check`` fails, one piece of advice per error class.

A rate-limited key, an open breaker and an unreachable host are different problems with
different fixes; the check names the class and says which fix applies, with the wait when the
error carries one.
"""

from __future__ import annotations

from core.integrations.errors import (
    AuthError,
    CircuitOpen,
    ConnectorError,
    EgressDenied,
    InvalidRequest,
    NotFound,
    QuotaExhausted,
    RateLimited,
    TransientError,
    VendorContractError,
)

__all__ = ["advice_for"]

_ADVICE: list[tuple[type[ConnectorError], str]] = [
    (AuthError, "the vendor rejected the credentials; check the key/secret and the account's permissions"),
    (QuotaExhausted, "the credentials work but the account's balance or quota is used up"),
    (EgressDenied, "base_url points at a host the connector does not declare"),
    (NotFound, "the vendor answered 'not found' to the check; check base_url and the API version"),
    (
        InvalidRequest,
        "the vendor refused the check request itself; the account settings (ids, product codes, "
        "API version) may not match this account",
    ),
    (VendorContractError, "something answered, but not as the vendor does; is base_url the vendor's API?"),
    (
        RateLimited,
        "the vendor is rate-limiting this account (the credentials got that far); wait{after}, "
        "or ask the vendor for a higher limit",
    ),
    (
        CircuitOpen,
        "recent calls to this instance kept failing, so calls are paused (breaker open){after}; "
        "see /readyz for the failures that opened it",
    ),
    (TransientError, "the vendor could not be reached or failed; check base_url, network and try again"),
]


def advice_for(exc: ConnectorError) -> str:
    """What an integrator should do about a failed check, by the error's class."""
    text = next((text for cls, text in _ADVICE if isinstance(exc, cls)), "the vendor call failed")
    retry_after = getattr(exc, "retry_after", None)
    return text.format(after=f" about {max(1, round(retry_after))} s" if retry_after else "")
