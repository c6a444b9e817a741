import pytest

from core.secretbox import SecretBox, SecretBoxError, generate_key


def test_seal_and_open_round_trip_without_plaintext_in_token():
    box = SecretBox([generate_key()])
    token = box.seal({"api_key": "s3cr3t-value", "password": "hunter2"})
    assert "s3cr3t-value" not in token and "hunter2" not in token
    assert box.open(token) == {"api_key": "s3cr3t-value", "password": "hunter2"}


def test_open_with_wrong_key_is_refused():
    token = SecretBox([generate_key()]).seal({"k": "v"})
    with pytest.raises(SecretBoxError, match="cannot be decrypted"):
        SecretBox([generate_key()]).open(token)


def test_tampered_token_is_refused():
    box = SecretBox([generate_key()])
    token = box.seal({"k": "v"})
    tampered = token[:-6] + ("A" if token[-6] != "A" else "B") + token[-5:]
    with pytest.raises(SecretBoxError):
        box.open(tampered)


def test_rotation_old_key_still_opens_and_rotate_moves_to_new_key():
    old, new = generate_key(), generate_key()
    token = SecretBox([old]).seal({"k": "v"})
    both = SecretBox.from_setting(f"{new},{old}")
    assert both.open(token) == {"k": "v"}
    rotated = both.rotate(token)
    assert SecretBox([new]).open(rotated) == {"k": "v"}


@pytest.mark.parametrize("bad", ["", "short", "x" * 44])
def test_malformed_key_names_the_expected_form(bad):
    with pytest.raises(SecretBoxError):
        SecretBox.from_setting(bad) if bad else SecretBox([])
