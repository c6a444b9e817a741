"""``RateLimit-Reset`` and ``X-RateLimit-Reset`` understood alongside ``Retry-After``."""

from __future__ import annotations

import httpx
import pytest
import respx
from sdk_helpers import Factory, FakeClock

from plugins.sdk import RateLimited, parse_rate_limit_reset, rate_limit_delay

REPORT = "https://api.demo.test/v1/reports"
NOW = 1_700_000_000.0


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("7", 7.0),  # delta-seconds
        (" 2.5 ", 2.5),
        ("0", 0.0),
        ("-3", 0.0),
        (str(int(NOW) + 12), 12.0),  # epoch seconds
        (str(NOW + 0.5), 0.5),
        (str(int(NOW) - 60), 0.0),  # a reset already past: go now
        ("999999999", 999_999_999.0),  # just below the threshold: still a (silly) delta, capped later
        ("1000000000", 0.0),  # the threshold itself is a time (in 2001)
        ("soon", None),
        ("nan", None),
        ("inf", None),
        ("", None),
        (None, None),
    ],
)
def test_parse_rate_limit_reset(value: str | None, expected: float | None) -> None:
    got = parse_rate_limit_reset(value, now=NOW)
    assert got == (pytest.approx(expected) if expected is not None else None)


def test_retry_after_wins_then_ietf_then_x_header() -> None:
    both = httpx.Headers({"Retry-After": "3", "RateLimit-Reset": "9", "X-RateLimit-Reset": "11"})
    assert rate_limit_delay(both, now=NOW) == 3.0
    resets = httpx.Headers({"RateLimit-Reset": "9", "X-RateLimit-Reset": "11"})
    assert rate_limit_delay(resets, now=NOW) == 9.0
    garbled = httpx.Headers({"Retry-After": "later", "RateLimit-Reset": "x", "X-RateLimit-Reset": "11"})
    assert rate_limit_delay(garbled, now=NOW) == 11.0
    assert rate_limit_delay(httpx.Headers({}), now=NOW) is None


@pytest.mark.parametrize(
    "headers",
    [{"RateLimit-Reset": "4"}, {"X-RateLimit-Reset": "4"}, {"X-RateLimit-Reset": str(int(NOW) + 4)}],
    ids=["ietf-delta", "x-delta", "x-epoch"],
)
async def test_429_reset_header_is_waited_on_the_clock(
    make: Factory, router: respx.MockRouter, clock: FakeClock, headers: dict[str, str]
) -> None:
    assert clock.now == NOW
    route = router.get(REPORT).mock(
        side_effect=[httpx.Response(429, headers=headers), httpx.Response(200, json={})]
    )
    await make().request("GET", "/reports", operation="fetch_report")
    assert route.call_count == 2
    assert clock.sleeps == [pytest.approx(4.0)]


async def test_429_reset_beyond_cap_fails_at_once(
    make: Factory, router: respx.MockRouter, clock: FakeClock
) -> None:
    reset = str(int(clock.now) + 3600)  # an hourly window, reset in an hour
    route = router.get(REPORT).mock(return_value=httpx.Response(429, headers={"X-RateLimit-Reset": reset}))
    with pytest.raises(RateLimited) as caught:
        await make(max_retry_after=30).request("GET", "/reports", operation="fetch_report")
    assert caught.value.retry_after == pytest.approx(3600.0)
    assert route.call_count == 1
    assert clock.sleeps == []
