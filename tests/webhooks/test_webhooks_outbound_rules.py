"""Pure rules of outbound webhooks: patterns, schedule, Retry-After, the SSRF guard, signing."""

from __future__ import annotations

import asyncio
import ipaddress
from datetime import UTC, datetime

import pytest
from standardwebhooks.webhooks import Webhook, WebhookVerificationError

from core.outbox import OutboxEvent
from core.webhooks_out import (
    DeliveryPolicy,
    InvalidSubscription,
    envelope,
    generate_secret,
    matches,
    validate_patterns,
)
from hub.outbound import (
    AllowList,
    ResolvedTarget,
    TargetRefused,
    TargetUnresolvable,
    refusal_reason,
    resolve_target,
    sign_all,
)
from hub.outbound.sender import parse_retry_after


@pytest.mark.parametrize(
    ("patterns", "event_type", "expected"),
    [
        (["*"], "loan_disbursed", True),
        (["loan_disbursed"], "loan_disbursed", True),
        (["loan_disbursed"], "loan_disbursed_late", False),
        (["loan.*"], "loan.disbursed", True),
        (["loan.*"], "loans.disbursed", False),
        (["loan.*"], "loan", False),
        (["application_*"], "application_submitted", True),
        (["application_*"], "loan_disbursed", False),
        (["a.b", "c.*"], "c.d.e", True),
        ([], "anything", False),
    ],
)
def test_event_type_matching(patterns, event_type, expected):
    assert matches(patterns, event_type) is expected


@pytest.mark.parametrize(
    "bad",
    ["", "loan.", "*.loan", "loan.*.x", "lo an", "loan**", "a..b", "loan/x", "loan.%", "x*y", "../etc"],
)
def test_malformed_patterns_are_refused_and_named(bad):
    with pytest.raises(InvalidSubscription) as caught:
        validate_patterns(["ok", bad])
    assert caught.value.problems and repr(bad) in caught.value.problems[0]


def test_patterns_are_deduplicated_and_an_empty_list_refused():
    assert validate_patterns(["a", "b.*", "a"]) == ["a", "b.*"]
    with pytest.raises(InvalidSubscription):
        validate_patterns([])


def test_schedule_jitter_retry_after_and_exhaustion():
    policy = DeliveryPolicy(retry_delays=[0, 5, 300], disable_after_failures=3, jitter=0.1)
    assert policy.delay_before(1) == 0
    for _ in range(50):
        assert 5 <= policy.delay_before(2) <= 5.5
    # Retry-After stretches a wait, but never past the longest step of the schedule.
    assert 60 <= policy.delay_before(2, retry_after=60) <= 66
    assert 300 <= policy.delay_before(2, retry_after=10_000) <= 330
    assert 300 <= policy.delay_before(3, retry_after=1) <= 330
    assert policy.delay_before(4) is None and policy.delay_before(0) is None


@pytest.mark.parametrize(
    ("value", "expected"),
    [("120", 120.0), ("0", 0.0), (None, None), ("", None), ("soon", None), ("-5", None), ("1e9", None)],
)
def test_retry_after_seconds_and_junk(value, expected):
    assert parse_retry_after(value) == expected


def test_retry_after_http_date():
    now = datetime(2026, 11, 28, 12, 0, tzinfo=UTC).timestamp()
    assert parse_retry_after("Sat, 28 Nov 2026 12:02:00 GMT", now=now) == 120.0
    assert parse_retry_after("Sat, 28 Nov 2026 11:00:00 GMT", now=now) == 0.0


@pytest.mark.parametrize(
    ("address", "reason"),
    [
        ("127.0.0.1", "a loopback"),
        ("::1", "a loopback"),
        ("10.1.2.3", "a private"),
        ("172.16.0.1", "a private"),
        ("192.168.1.1", "a private"),
        ("fd12::1", "a private"),
        ("169.254.169.254", "a cloud metadata"),
        ("fd00:ec2::254", "a cloud metadata"),
        ("169.254.10.1", "a link-local"),
        ("fe80::1", "a link-local"),
        ("224.0.0.1", "a multicast"),
        ("ff02::1", "a multicast"),
        ("0.0.0.0", "an unspecified"),
        ("::", "an unspecified"),
        ("100.64.1.1", "a shared (CGNAT)"),
        ("::ffff:127.0.0.1", "a loopback"),
        ("240.0.0.1", "a private"),
        ("255.255.255.255", "a private"),
        ("2001:db8::1", "a private"),  # documentation prefix
        ("100::1", "a private"),  # discard-only prefix
        ("4000::1", "a reserved"),  # IETF-reserved IPv6 space
        ("e000::1", "a reserved"),
        ("2002:7f00:1::", "a loopback (inside 2002:7f00:1::)"),  # 6to4 of 127.0.0.1
        ("2002:a9fe:a9fe::1", "a cloud metadata (inside 2002:a9fe:a9fe::1)"),  # 6to4 of 169.254.169.254
        ("2002:c0a8:101::", "a private (inside 2002:c0a8:101::)"),  # 6to4 of 192.168.1.1
        # Teredo whose client is 127.0.0.1
        ("2001:0:4136:e378:8000:63bf:80ff:fffe", "a loopback (inside 2001:0:4136:e378:8000:63bf:80ff:fffe)"),
    ],
)
def test_non_public_addresses_are_refused(address, reason):
    assert refusal_reason(ipaddress.ip_address(address)) == reason


@pytest.mark.parametrize("address", ["8.8.8.8", "2606:4700:4700::1111", "93.184.216.34", "2002:808:808::1"])
def test_public_addresses_pass(address):
    assert refusal_reason(ipaddress.ip_address(address)) is None


@pytest.mark.parametrize(
    ("url", "words"),
    [
        ("http://127.0.0.1:8080/hook", "loopback"),
        ("http://10.0.0.5/hook", "private"),
        ("https://192.168.1.20/hook", "private"),
        ("http://169.254.169.254/latest/meta-data/", "cloud metadata"),
        ("http://[::1]:9000/hook", "loopback"),
        ("http://localhost:9000/hook", "resolves to"),
        ("http://0.0.0.0/", "unspecified"),
        ("http://[::ffff:10.0.0.1]/", "private"),
        ("file:///etc/passwd", "only http and https"),
        ("gopher://example.com/", "only http and https"),
        ("ftp://example.com/x", "only http and https"),
        ("http:///nohost", "no host"),
        ("http://user:pw@example.com/", "credentials"),
        ("http://example.com:99999/", "not a valid URL"),
        ("not a url", "only http and https"),
    ],
)
async def test_ssrf_guard_refuses(url, words):
    with pytest.raises(TargetRefused) as caught:
        await resolve_target(url, AllowList())
    assert words in str(caught.value)


@pytest.mark.parametrize(
    ("allow", "url"),
    [
        ("*", "http://127.0.0.1:8080/hook"),
        ("*", "http://169.254.169.254/"),
        ("127.0.0.1", "http://127.0.0.1:8080/hook"),
        ("10.0.0.0/8", "http://10.20.30.40/hook"),
        ("::1", "http://[::1]:9000/hook"),
        ("localhost", "http://localhost:9000/hook"),
        ("  , 192.168.0.0/16 ,", "http://192.168.7.7/"),
    ],
)
async def test_ssrf_guard_allows_what_the_operator_configured(allow, url):
    target = await resolve_target(url, AllowList.from_setting(allow))
    assert target.addresses


async def test_allowing_one_network_does_not_allow_another_or_other_schemes():
    allow = AllowList.from_setting("10.0.0.0/8")
    with pytest.raises(TargetRefused):
        await resolve_target("http://192.168.1.1/", allow)
    with pytest.raises(TargetRefused):
        await resolve_target("http://169.254.169.254/", allow)
    with pytest.raises(TargetRefused):
        await resolve_target("file:///etc/passwd", AllowList.from_setting("*"))


async def test_an_unresolvable_host_is_its_own_error():
    with pytest.raises(TargetUnresolvable):
        await resolve_target("https://no-such-host.invalid/hook", AllowList())


def test_envelope_is_deterministic_standard_webhooks_json():
    event = OutboxEvent(
        event_id="e1",
        event_type="loan_disbursed",
        subject_type="loan",
        subject_id="L-1",
        payload={"loan_id": "L-1", "amount": "1000.00", "borrower": "张三"},
        occurred_at=datetime(2026, 11, 28, 1, 2, 3, tzinfo=UTC),
    )
    body = envelope(event)
    assert body == envelope(event)
    assert body.startswith(b'{"data":{"amount":"1000.00","borrower":"\xe5')
    assert b'"timestamp":"2026-11-28T01:02:03Z","type":"loan_disbursed"}' in body


def test_every_active_secret_signs_and_each_verifies_with_the_official_library():
    old, new = generate_secret(), generate_secret()
    assert old.startswith("whsec_") and old != new
    body, msg_id = b'{"type":"x","timestamp":"2026-11-28T00:00:00Z","data":{}}', "msg_abc"
    timestamp = int(datetime.now(UTC).timestamp())
    header = sign_all([new, old], msg_id, timestamp, body)
    assert len(header.split(" ")) == 2
    headers = {"webhook-id": msg_id, "webhook-timestamp": str(timestamp), "webhook-signature": header}
    for secret in (old, new):
        assert Webhook(secret).verify(body, headers) == {
            "type": "x",
            "timestamp": "2026-11-28T00:00:00Z",
            "data": {},
        }
    with pytest.raises(WebhookVerificationError):
        Webhook(generate_secret()).verify(body, headers)
    with pytest.raises(WebhookVerificationError):
        Webhook(new).verify(body + b" ", headers)


@pytest.mark.parametrize(
    "url",
    [
        "http://user@example.com/hook",  # a username alone
        "http://:pw@example.com/hook",  # a password alone
        "http://user:@example.com/hook",
        "http://@example.com/hook",  # an empty userinfo still names credentials
    ],
)
async def test_ssrf_guard_refuses_any_userinfo_before_resolving(url):
    with pytest.raises(TargetRefused, match="credentials"):
        await resolve_target(url, AllowList.from_setting("*"))


@pytest.mark.parametrize(
    ("url", "scheme", "port"),
    [
        ("http://93.184.216.34/hook", "http", 80),
        ("https://93.184.216.34/hook", "https", 443),
        ("HTTPS://93.184.216.34/hook", "https", 443),
        ("http://93.184.216.34:443/hook", "http", 443),
        ("https://93.184.216.34:80/hook", "https", 80),
        ("https://[2606:4700:4700::1111]/hook", "https", 443),
        ("http://[2606:4700:4700::1111]:8443/hook", "http", 8443),
    ],
)
async def test_ssrf_guard_default_ports_follow_the_scheme_and_explicit_ports_win(url, scheme, port):
    target = await resolve_target(url, AllowList())
    assert (target.scheme, target.port) == (scheme, port)


@pytest.mark.parametrize(
    ("url", "words"),
    [
        ("http://[fe80::1%25eth0]/hook", "link-local"),
        ("http://[::1%25lo]:9000/hook", "loopback"),
        ("http://[fd00:ec2::254%25eth0]/", "private"),
        ("http://[fc00::5%251]/hook", "private"),
    ],
)
async def test_ssrf_guard_judges_ipv6_literals_with_a_scope_id_by_their_address(url, words):
    with pytest.raises(TargetRefused) as caught:
        await resolve_target(url, AllowList())
    assert words in str(caught.value)


async def test_ssrf_guard_network_allow_list_covers_scoped_ipv6_literals():
    target = await resolve_target("http://[fe80::1%25eth0]/hook", AllowList.from_setting("fe80::/10"))
    assert target.port == 80
    with pytest.raises(TargetRefused):
        await resolve_target("http://[fe80::1%25eth0]/hook", AllowList.from_setting("fc00::/7"))


def _resolver(*addresses):
    async def getaddrinfo(host, port, **kwargs):
        return [(10, 1, 6, "", (address, port, 0, 3)) for address in addresses]

    return getaddrinfo


async def test_ssrf_guard_strips_the_scope_id_from_resolved_addresses(monkeypatch):
    loop = asyncio.get_running_loop()
    monkeypatch.setattr(loop, "getaddrinfo", _resolver("fe80::1%eth0", "fe80::1%eth1"))
    with pytest.raises(TargetRefused) as caught:
        await resolve_target("https://partner.example/hook", AllowList())
    assert "partner.example resolves to fe80::1, which is a link-local address" in str(caught.value)
    target = await resolve_target("https://partner.example/hook", AllowList.from_setting("partner.example"))
    assert target.addresses == ("fe80::1",)
    assert target.port == 443


@pytest.mark.parametrize(
    ("setting", "expected"),
    [
        ("", AllowList()),
        (" , ,", AllowList()),
        ("*", AllowList(any_address=True)),
        (
            "Partner.Example, 10.1.2.3/8 ,,[fd00::1], 192.168.7.7, *",
            AllowList(
                True,
                frozenset({"partner.example"}),
                (
                    ipaddress.ip_network("10.0.0.0/8"),  # host bits are dropped, not refused
                    ipaddress.ip_network("fd00::1/128"),  # brackets around an IPv6 literal are removed
                    ipaddress.ip_network("192.168.7.7/32"),
                ),
            ),
        ),
        ("a.example,b.example", AllowList(False, frozenset({"a.example", "b.example"}), ())),
        (
            "a.example, *, 10.0.0.0/8",
            AllowList(True, frozenset({"a.example"}), (ipaddress.ip_network("10.0.0.0/8"),)),
        ),
        ("a.example b.example", AllowList(False, frozenset({"a.example b.example"}), ())),  # commas separate
    ],
)
def test_allow_list_setting_is_parsed_item_by_item(setting, expected):
    assert AllowList.from_setting(setting) == expected


async def test_ssrf_guard_answers_the_checked_parts_of_the_url(monkeypatch):
    url = "https://93.184.216.34:8443/hook?x=1"
    assert await resolve_target(url, AllowList()) == ResolvedTarget(
        url, "https", "93.184.216.34", 8443, ("93.184.216.34",)
    )
    loop = asyncio.get_running_loop()
    monkeypatch.setattr(
        loop, "getaddrinfo", _resolver("93.184.216.34", "2606:4700:4700::1111", "93.184.216.34")
    )
    target = await resolve_target("http://Partner.Example/hook", AllowList())
    assert target == ResolvedTarget(
        "http://Partner.Example/hook",
        "http",
        "partner.example",
        80,
        ("93.184.216.34", "2606:4700:4700::1111"),
    )
