"""The masking functions one by one: exact outputs for the cases the end-to-end tests pass through."""

from __future__ import annotations

import json
import re

import pytest

from plugins.sdk import mask_headers, mask_pii, mask_secrets
from plugins.sdk.masking import Masker

# -- personal numbers ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("card", "masked"),
    [
        ("5555555555554444", "555*********4444"),  # doubled 5s: 10 becomes 1
        ("4012888888881881", "401*********1881"),  # doubled 8s: 16 becomes 7
        ("6011000990139424", "601*********9424"),  # doubled 9 and 4
        ("378282246310005", "378282246310005"),  # 15 digits: not a card length (and not an ID)
    ],
)
def test_luhn_valid_cards_are_masked(card: str, masked: str) -> None:
    assert mask_pii(f"card {card}") == f"card {masked}"


@pytest.mark.parametrize("number", ["5555555555554445", "4012888888881882", "6011000990139425"])
def test_cards_failing_the_luhn_check_by_one_digit_are_kept(number: str) -> None:
    assert mask_pii(f"order {number}") == f"order {number}"


# -- secrets and headers -------------------------------------------------------------------------


def test_mask_secrets_skips_empty_secrets() -> None:
    assert mask_secrets("abc", ["", "zz"]) == "abc"


def test_mask_secrets_masks_both_url_encodings_of_a_secret_with_slash_and_space() -> None:
    text = "raw=a/b c path=a%2Fb%20c form=a%2Fb+c"
    assert mask_secrets(text, ["a/b c"]) == "raw=*** path=*** form=***"


def test_mask_headers_takes_pairs_as_well_as_a_mapping() -> None:
    pairs = [("Authorization", "Bearer x"), ("Accept", "application/json")]
    assert mask_headers(pairs) == {"Authorization": "***", "Accept": "application/json"}


def test_masker_headers_takes_a_mapping_and_keeps_ordinary_headers() -> None:
    masker = Masker(headers=["X-Partner-Id"])
    headers = {"X-Partner-Id": "p-1", "Cookie": "s=1", "Accept": "application/json"}
    assert masker.headers(headers) == {"X-Partner-Id": "***", "Cookie": "***", "Accept": "application/json"}
    assert masker.headers(list(headers.items())) == masker.headers(headers)


# -- a Masker's secrets --------------------------------------------------------------------------


def test_a_secret_containing_another_is_replaced_whole() -> None:
    # "zz" sorts after "azz" as text; only the longest-first order replaces "azz" whole.
    masker = Masker(["zz", "azz"])
    assert masker.text("key azz and zz") == "key *** and ***"


def test_masker_masks_both_url_encodings_of_a_secret() -> None:
    masker = Masker(["a/b c"])
    assert masker.text("path=a%2Fb%20c form=a%2Fb+c raw=a/b c") == "path=*** form=*** raw=***"


def test_masker_takes_compiled_and_text_patterns() -> None:
    masker = Masker(patterns=[re.compile(r"E\d{8}"), r"CUST-\d{6}"])
    assert masker.text("E12345678 CUST-004711 keep") == "*** *** keep"


# -- values one call sends -----------------------------------------------------------------------


def longest_first(values: tuple[str, ...]) -> bool:
    """Replacement order: a value containing another must go first (ties may come in any order)."""
    return [len(v) for v in values] == sorted((len(v) for v in values), reverse=True)


def test_call_values_takes_header_credentials_cookies_params_and_body_values_longest_first() -> None:
    masker = Masker()
    values = masker.call_values(
        [
            ("Authorization", "Basic dXNlcjpw YXNz"),  # everything after the first space
            ("Cookie", "lang=zh; sid=ab=cd ; x=1"),
            ("Accept", "application/json"),
        ],
        {"token": "qtok1"},
        {"tokens": ["btok1", "btok22"], "page": "7", "password": None},
    )
    assert longest_first(values)
    assert set(values) == {
        "Basic dXNlcjpw YXNz",
        "Basic+dXNlcjpw+YXNz",
        "Basic%20dXNlcjpw%20YXNz",
        "lang=zh; sid=ab=cd ; x=1",
        "lang%3Dzh%3B+sid%3Dab%3Dcd+%3B+x%3D1",
        "lang%3Dzh%3B%20sid%3Dab%3Dcd%20%3B%20x%3D1",
        "sid=ab=cd ; x=1",  # after the first space, as for "Bearer <token>"
        "sid%3Dab%3Dcd+%3B+x%3D1",
        "sid%3Dab%3Dcd%20%3B%20x%3D1",
        "dXNlcjpw+YXNz",
        "dXNlcjpw%20YXNz",
        "dXNlcjpw YXNz",
        "ab%3Dcd",
        "btok22",
        "ab=cd",
        "btok1",
        "qtok1",
        "zh",
    }


def test_call_values_ignores_one_character_values_and_config_secrets() -> None:
    masker = Masker(["configured-secret"])
    assert masker.call_values([("X-Api-Key", "configured-secret")], {"sign": "x"}, None) == ()
    assert masker.call_values([], None, {"token": "ok"}) == ("ok",)


def test_call_values_json_escaped_variant_covers_quotes_and_backslashes() -> None:
    values = Masker().call_values([], None, {"password": 'pa"ss'})
    assert longest_first(values) and set(values) == {"pa%22ss", 'pa\\"ss', 'pa"ss'}
    assert Masker().text('{"echo": "pa\\"ss"}', values) == '{"echo": "***"}'


def test_call_values_cover_both_url_encodings_and_dicts_inside_lists() -> None:
    values = Masker().call_values([], None, {"items": [{"token": "a/b c"}, {"page": "12"}]})
    assert set(values) == {"a/b c", "a%2Fb%20c", "a%2Fb+c"}


def test_call_values_variants_are_exactly_raw_url_and_json_forms() -> None:
    # Nothing else: a variant of "null" or a shorter slice would mask unrelated text.
    values = Masker().call_values([], None, {"token": "abc123"})
    assert values == ("abc123",)
    assert Masker().text("zbc123 full abc12 abc123", values) == "zbc123 full abc12 ***"


def test_merge_values_adds_variants_of_fetched_tokens_longest_first() -> None:
    masker = Masker()
    merged = masker.merge_values(("abcdef",), ["t k", "ab", "x", " "])
    assert longest_first(merged)
    assert set(merged) == {"abcdef", "t%20k", "t+k", "t k", "ab"}
    assert masker.merge_values(("abcdef",), ["x"]) == ("abcdef",)
    assert masker.merge_values((), []) == ()


# -- text, URLs and bodies -----------------------------------------------------------------------


def test_text_masks_the_call_values_given() -> None:
    masker = Masker(["s3cret"])
    assert masker.text("s3cret and run-token", ("run-token",)) == "*** and ***"
    assert masker.text("s3cret and run-token") == "*** and run-token"


def test_url_masks_sensitive_and_declared_parameters_keeping_blank_ones() -> None:
    masker = Masker(fields=["custName"])
    url = "https://api.test/v1?token=abc&empty=&page=2&CUSTNAME=%E5%BC%A0"
    assert masker.url(url) == "https://api.test/v1?token=***&empty=&page=2&CUSTNAME=***"
    assert masker.url(url) == "https://api.test/v1?token=***&empty=&page=2&CUSTNAME=***"  # cached


def test_url_without_sensitive_parameters_is_left_as_sent() -> None:
    url = "https://api.test/v1?q=a%20b&page=2"
    assert Masker().url(url) == url


def test_url_masks_the_call_values_given_on_every_call() -> None:
    masker = Masker()
    url = "https://api.test/v1/subjects/run-token?page=1"
    assert masker.url(url) == url
    assert masker.url(url, ("run-token",)) == "https://api.test/v1/subjects/***?page=1"


def test_body_masks_sensitive_keys_of_json_with_leading_space_arrays_and_scalars() -> None:
    masker = Masker()
    assert masker.body('  {"token": "t", "n": 42, "ok": true, "x": null, "f": 1.5}') == (
        '{"token": "***", "n": 42, "ok": true, "x": null, "f": 1.5}'
    )
    assert masker.body('[{"token": "t"}, {"name": "张三"}]') == '[{"token": "***"}, {"name": "张三"}]'


def test_body_masks_json_arrays_inside_json_strings_keeping_unicode() -> None:
    inner = json.dumps([{"token": "t", "name": "张三"}], ensure_ascii=False)
    masked = Masker().body(json.dumps({"section": inner}, ensure_ascii=False)) or ""
    assert json.loads(masked) == {"section": '[{"token": "***", "name": "张三"}]'}


def test_body_masks_declared_fields_in_non_json_text_case_insensitively() -> None:
    masker = Masker(fields=["custName"])
    truncated = '{"CUSTNAME": "张三", "inner": "{\\"CustName\\": \\"李四\\"}", "cut'
    assert masker.body(truncated) == '{"CUSTNAME": "***", "inner": "{\\"CustName\\": \\"***\\"}", "cut'
    assert masker.body("see ?CustName=%E5%BC%A0 there") == "see ?CustName=*** there"


def test_body_with_a_credential_word_but_no_json_and_no_declared_fields_is_kept() -> None:
    assert Masker().body("token expired, log in again", "text/plain") == "token expired, log in again"


def test_form_bodies_keep_blank_fields() -> None:
    body = Masker().body("a=&password=hunter2&b=1", "application/x-www-form-urlencoded")
    assert body == "a=&password=***&b=1"


def test_body_limit_is_inclusive_and_the_note_counts_what_was_cut() -> None:
    masker = Masker(body_limit=10)
    assert masker.body("x" * 10) == "x" * 10
    assert masker.body("x" * 13) == "x" * 10 + "…[truncated 3 chars]"


def test_binary_body_without_a_content_type_says_unknown() -> None:
    assert Masker().body(b"\xff\xfe") == "<binary body: 2 bytes, unknown type>"
    assert Masker().body(b"") is None
    assert Masker().body(None) is None
