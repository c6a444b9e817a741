"""The egress allow-list on its own: exact and wildcard matching, normalisation, and each refusal."""

from __future__ import annotations

import httpx
import pytest

from plugins.sdk import EgressDenied
from plugins.sdk.egress import EgressPolicy, host_of


def demo_policy() -> EgressPolicy:
    # Built in each test, not at import: a policy made before the code under test changes would
    # not show the change (mutation testing imports test modules once).
    return EgressPolicy(["api.demo.test", "*.cdn.demo.test", "Other.Test."], name="demo/main")


def test_hosts_are_split_into_exact_names_and_wildcard_suffixes_normalised() -> None:
    policy = demo_policy()
    assert policy.exact == frozenset({"api.demo.test", "other.test"})
    assert policy.suffixes == (".cdn.demo.test",)
    assert (policy.name, policy.allow_insecure_http) == ("demo/main", False)


@pytest.mark.parametrize(
    "host",
    [
        "api.demo.test",
        "API.Demo.TEST",
        "api.demo.test.",  # the fully qualified form, trailing dot
        " api.demo.test ",
        "other.test",
        "files.cdn.demo.test",
        "a.b.cdn.demo.test",
        "FILES.CDN.DEMO.TEST.",
    ],
)
def test_allowed_hosts(host: str) -> None:
    assert demo_policy().allows(host) is True


@pytest.mark.parametrize(
    "host",
    [
        "",
        "cdn.demo.test",  # a wildcard does not cover the bare domain
        ".cdn.demo.test",  # nor an empty label in front of it
        "xcdn.demo.test",
        "demo.test",
        "api.demo.test.evil.test",
        "evil-api.demo.test",
        ".api.demo.test",
    ],
)
def test_refused_hosts(host: str) -> None:
    assert demo_policy().allows(host) is False


def test_an_empty_entry_allows_nothing() -> None:
    assert EgressPolicy(["", "api.demo.test"]).allows("") is False


def test_matching_is_case_insensitive_for_every_letter() -> None:
    # A host ending in an upper-case letter is lower-cased, never trimmed.
    policy = EgressPolicy(["api.fax"])
    assert policy.allows("API.FAX") is True
    assert policy.allows("API.FA") is False


@pytest.mark.parametrize(
    ("url", "host"),
    [
        ("https://API.Demo.Test/v1", "api.demo.test"),
        ("https://api.demo.test./v1", "api.demo.test"),
        ("https://[::1]:9100/", "::1"),
        ("https://api.demo.test:8443", "api.demo.test"),
    ],
)
def test_host_of(url: str, host: str) -> None:
    assert host_of(url) == host


def denied(policy: EgressPolicy, url: str, **kw: str) -> EgressDenied:
    with pytest.raises(EgressDenied) as caught:
        policy.check(httpx.URL(url), **kw)
    return caught.value


def test_allowed_https_url_passes() -> None:
    demo_policy().check(httpx.URL("https://files.cdn.demo.test/a.pdf"), connector="demo", operation="file")


def test_other_scheme_is_refused_naming_it() -> None:
    error = denied(demo_policy(), "ftp://api.demo.test/x", connector="demo", operation="upload")
    assert str(error) == "demo/main upload: scheme 'ftp' is not allowed"
    assert error.connector == "demo"


def test_plain_http_to_a_remote_host_is_refused_by_default() -> None:
    error = denied(demo_policy(), "http://api.demo.test/x", connector="demo", operation="fetch")
    assert str(error) == (
        "demo/main fetch: plain http:// to 'api.demo.test' would send credentials in clear "
        "(set allow_insecure_http on the instance to allow it); nothing was sent"
    )
    assert error.connector == "demo"


@pytest.mark.parametrize("url", ["http://127.0.0.1:9100/x", "http://localhost/x", "http://[::1]/x"])
def test_plain_http_to_this_machine_needs_no_flag_but_still_the_list(url: str) -> None:
    policy = EgressPolicy(["127.0.0.1", "localhost", "::1"])
    policy.check(httpx.URL(url))
    error = denied(EgressPolicy(["api.demo.test"]), url)
    assert "is not on the egress allow-list" in str(error)


def test_plain_http_is_allowed_to_a_listed_host_when_the_instance_allows_it() -> None:
    policy = EgressPolicy(["gateway.internal"], allow_insecure_http=True)
    policy.check(httpx.URL("http://gateway.internal:8080/x"))
    assert "not on the egress allow-list" in str(denied(policy, "http://elsewhere.internal/"))


def test_unlisted_host_is_refused_naming_the_declared_hosts() -> None:
    error = denied(demo_policy(), "https://evil.test/x", connector="demo", operation="fetch")
    assert str(error) == (
        "demo/main fetch: host 'evil.test' is not on the egress allow-list "
        "(declared: api.demo.test, other.test); nothing was sent"
    )
    assert error.connector == "demo"


def test_unlisted_host_with_nothing_declared_says_none_and_names_the_default() -> None:
    error = denied(EgressPolicy([]), "https://evil.test/x")
    assert str(error) == (
        "connector : host 'evil.test' is not on the egress allow-list (declared: none); nothing was sent"
    )
    assert error.connector is None
