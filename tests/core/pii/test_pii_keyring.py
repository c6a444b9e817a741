"""The PII key ring: AES-GCM sealing bound to the field class, rotation by key id, blind indexes."""

from __future__ import annotations

import json
import os

import pytest

from core.pii import PII, KeyRing, KeyRingError, load_or_create_key_file, mask, normalise
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
