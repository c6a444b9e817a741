"""The PII key ring: AES-GCM sealing bound to the field class, rotation by key id, blind indexes."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import os

import pytest

from core.pii import PII, KeyRing, KeyRingError, current, install, load_or_create_key_file, mask, normalise
from core.pii.keyring import add_key_to_file


def ring(*kids: str, index: bytes = b"i" * 32) -> KeyRing:
    return KeyRing([(kid, kid.encode().ljust(32, b"x")) for kid in kids], index)


def test_seal_round_trips_and_names_the_key():
    keys = ring("k1")
    sealed = keys.seal(b"110105199003071234", "id_number")
    assert sealed.startswith("pii1:k1:") and "110105" not in sealed
    assert keys.open(sealed, "id_number") == b"110105199003071234"
    assert KeyRing.kid_of(sealed) == "k1"


def test_each_seal_differs_so_equal_values_cannot_be_spotted_in_the_table():
    keys = ring("k1")
    assert keys.seal(b"13812345678", "mobile") != keys.seal(b"13812345678", "mobile")


def test_a_value_moved_to_another_field_class_does_not_open():
    keys = ring("k1")
    sealed = keys.seal(b"13812345678", "mobile")
    with pytest.raises(KeyRingError, match="tampered or moved"):
        keys.open(sealed, "id_number")


def test_a_flipped_byte_is_refused():
    keys = ring("k1")
    sealed = keys.seal(b"13812345678", "mobile")
    body = sealed.rsplit(":", 1)[1]
    flipped = body[:-3] + ("A" if body[-3] != "A" else "B") + body[-2:]
    with pytest.raises(KeyRingError):
        keys.open(sealed.rsplit(":", 1)[0] + ":" + flipped, "mobile")


def test_older_keys_still_open_after_a_new_key_is_put_in_front():
    old = ring("k1")
    sealed = old.seal(b"6222020200112233445", "bank_card")
    new = ring("k2", "k1")
    assert new.open(sealed, "bank_card") == b"6222020200112233445"
    assert KeyRing.kid_of(new.seal(b"x", "bank_card")) == "k2"
    with pytest.raises(KeyRingError, match="'k2', which is not loaded"):
        old.open(new.seal(b"x", "bank_card"), "bank_card")


def test_blind_index_is_stable_per_normalised_value_and_class():
    keys = ring("k1")
    a = keys.blind_index("mobile", normalise("mobile", "+86 138-1234-5678"))
    b = keys.blind_index("mobile", normalise("mobile", "13812345678"))
    assert a == b
    assert keys.blind_index("id_number", "13812345678") != a
    assert ring("k1", index=b"j" * 32).blind_index("mobile", "13812345678") != a


@pytest.mark.parametrize(
    ("field_class", "value", "masked"),
    [
        ("id_number", "110105199003071234", "110105********1234"),
        ("mobile", "13812345678", "138****5678"),
        ("bank_card", "6222020200112233445", "622202*********3445"),
        ("name", "张三", "张*"),
        ("name", "欧阳娜娜", "欧阳**"),
        ("name", "Alice Smith", "A**** S****"),
        ("address", "上海市浦东新区世纪大道100号", "上海市浦东****"),
        ("unknown", "whatever", "********"),
    ],
)
def test_masking_patterns(field_class, value, masked):
    assert mask(field_class, value) == masked


def test_pii_value_is_masked_in_str_repr_and_format():
    value = PII("mobile", "13812345678")
    assert str(value) == "138****5678"
    assert "13812345678" not in repr(value) and "13812345678" not in f"{value}"
    assert value.reveal() == "13812345678"


def test_key_file_is_created_private_and_grows_in_front(tmp_path):
    path = tmp_path / "pii.keys"
    first = load_or_create_key_file(path)
    assert oct(path.stat().st_mode & 0o777) == "0o600"
    sealed = first.seal(b"x", "name")
    kid = add_key_to_file(path)
    second = load_or_create_key_file(path)
    assert second.kids == [kid, "k1"] and second.open(sealed, "name") == b"x"
    assert json.loads(path.read_text())["index_key"]


def test_settings_form_is_checked_with_a_message_naming_the_variable():
    good = KeyRing.generate_key()
    assert KeyRing.from_setting(f"k2:{good},k1:{good}", good).kids == ["k2", "k1"]
    with pytest.raises(KeyRingError, match="KID:BASE64KEY"):
        KeyRing.from_setting(good, good)
    with pytest.raises(KeyRingError, match="must be 32 bytes"):
        KeyRing.from_setting("k1:AAAA", good)
    with pytest.raises(KeyRingError, match="distinct"):
        KeyRing([("k1", os.urandom(32)), ("k1", os.urandom(32))], os.urandom(32))


def test_key_file_keys_get_the_next_free_number(tmp_path):
    path = tmp_path / "pii.keys"
    load_or_create_key_file(path)
    assert add_key_to_file(path) == "k2"
    data = json.loads(path.read_text())
    data["keys"] = [[kid, key] for kid, key in data["keys"] if kid == "k2"] + [["k4", KeyRing.generate_key()]]
    path.write_text(json.dumps(data))
    assert add_key_to_file(path) == "k3"  # two keys taken: 3 is next, and free
    assert add_key_to_file(path) == "k5"  # k4 is taken: the next free one
    assert load_or_create_key_file(path).kids == ["k5", "k3", "k2", "k4"]
    assert oct(path.stat().st_mode & 0o777) == "0o600"  # the rewritten file is private too


def test_key_file_is_made_in_missing_directories_and_its_place_is_logged(tmp_path, caplog):
    path = tmp_path / "var" / "secrets" / "pii.keys"
    with caplog.at_level("WARNING", logger="core.pii.keyring"):
        made = load_or_create_key_file(path)
    assert made.kids == ["k1"]
    assert [r.getMessage() for r in caplog.records] == [
        f"generated PII keys at {path}; back the file up, or set LENDHUB_PII_KEYS"
    ]
    caplog.clear()
    assert load_or_create_key_file(path).kids == ["k1"]
    assert caplog.records == []  # an existing file is read, not remade


def test_generated_keys_are_32_random_bytes_base64_without_padding():
    key = KeyRing.generate_key()
    assert len(key) == 43 and "=" not in key
    assert len(base64.urlsafe_b64decode(key + "=")) == 32
    assert KeyRing.generate_key() != key


def test_fingerprints_are_hmacs_of_the_label_under_each_key():
    keys = ring("k2", "k1")
    expected = [
        hmac.new(kid.encode().ljust(32, b"x"), b"lendhub-keyprint", hashlib.sha256).hexdigest()
        for kid in ("k2", "k1")
    ]
    assert keys.fingerprints("lendhub-keyprint") == expected
    assert keys.index_fingerprint("lendhub-keyprint") == (
        hmac.new(b"i" * 32, b"lendhub-keyprint", hashlib.sha256).hexdigest()
    )


def test_blind_index_is_an_hmac_over_class_nul_value():
    expected = hmac.new(b"i" * 32, b"mobile\x0013812345678", hashlib.sha256).hexdigest()
    assert ring("k1").blind_index("mobile", "13812345678") == expected


def test_kid_of_names_the_second_field_of_a_sealed_value_only():
    assert KeyRing.kid_of("pii1:k7:AAAA") == "k7"
    assert KeyRing.kid_of("pii1:k7:a:b") == "k7"
    assert KeyRing.kid_of("pii2:k7:AAAA") is None
    assert KeyRing.kid_of("13812345678") is None


@pytest.mark.parametrize("forge", ["prefix", "empty body", "non-base64 character"])
def test_forged_sealed_values_do_not_open(forge):
    keys = ring("k1")
    sealed = keys.seal(b"13812345678", "mobile")
    prefix, kid, body = sealed.split(":")
    forged = {
        "prefix": f"pii2:{kid}:{body}",
        "empty body": f"{prefix}:{kid}:",
        "non-base64 character": f"{prefix}:{kid}:{body[:5]}!{body[5:]}",  # would decode the same if dropped
    }[forge]
    with pytest.raises(KeyRingError):
        keys.open(forged, "mobile")


def test_settings_name_the_position_of_an_entry_without_a_key_id():
    good = KeyRing.generate_key()
    with pytest.raises(KeyRingError, match=r"^LENDHUB_PII_KEYS entry 2 must be KID:BASE64KEY$"):
        KeyRing.from_setting(f"k1:{good},{good}", good)


def test_install_makes_the_ring_current():
    before = current()
    other = ring("k9")
    try:
        install(other)
        assert current() is other
    finally:
        install(before)
    assert current() is before
