"""Credentials never travel over plain http:// to a host other than this machine."""

from __future__ import annotations

import httpx
import pytest
import respx
from pydantic import ValidationError
from sdk_helpers import Factory, make_config

from plugins.sdk import EgressDenied, MemoryCallRecorder


@pytest.mark.parametrize(
    "url",
    [
        "http://api.demo.test/v1",
        "http://10.0.0.5:8080",
        "http://127.0.0.1.nip.io/",  # a name, however it resolves, is not loopback
        "HTTP://API.DEMO.TEST",
    ],
)
def test_plain_http_to_a_remote_host_is_refused_naming_the_flag(url: str) -> None:
    with pytest.raises(ValidationError) as caught:
        make_config(base_url=url)
    message = str(caught.value)
    assert "base_url" in message and "allow_insecure_http" in message and "https://" in message


@pytest.mark.parametrize(
    "url", ["http://127.0.0.1:9100", "http://localhost:9100/x", "http://[::1]:9100", "http://127.8.9.10"]
)
def test_plain_http_to_loopback_is_allowed(url: str) -> None:
    assert make_config(base_url=url).base_url == url


def test_plain_http_to_a_remote_host_is_allowed_only_when_the_instance_says_so() -> None:
    config = make_config(base_url="http://gateway.internal:8080", allow_insecure_http=True)
    assert config.allow_insecure_http is True
    assert make_config().allow_insecure_http is False


@pytest.mark.parametrize(
    ("url", "words"),
    [
        ("ftp://api.demo.test/", "http:// or https://"),
        ("api.demo.test/v1", "http:// or https://"),
        ("https://", "host"),
        ("https://user:hunter2@api.demo.test/", "user name or password"),
    ],
)
def test_base_url_must_be_an_absolute_web_url_without_credentials(url: str, words: str) -> None:
    with pytest.raises(ValidationError) as caught:
        make_config(base_url=url)
    assert words in str(caught.value)
    assert "hunter2" not in str(caught.value)


async def test_absolute_http_url_to_a_remote_host_is_denied_before_sending(
    make: Factory, router: respx.MockRouter, recorder: MemoryCallRecorder
) -> None:
    route = router.route().mock(return_value=httpx.Response(200, json={}))
    with pytest.raises(EgressDenied) as caught:
        await make().request("PUT", "http://files.cdn.demo.test/upload?sig=x", operation="file_upload")
    assert route.call_count == 0
    assert "plain http://" in str(caught.value) and "allow_insecure_http" in str(caught.value)
    assert recorder.records[0].error_class == "EgressDenied"


async def test_absolute_http_url_is_sent_when_the_instance_allows_it(
    make: Factory, router: respx.MockRouter
) -> None:
    route = router.route().mock(return_value=httpx.Response(200, json={}))
    connector = make(allow_insecure_http=True)
    await connector.request("GET", "http://files.cdn.demo.test/a.json", operation="file")
    assert route.call_count == 1
