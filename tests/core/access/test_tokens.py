"""Signing-key rotation and the token checks that do not need a database."""

from __future__ import annotations

from datetime import timedelta

import pytest

from core.access.passwords import hash_password, password_problems, verify_password
from core.access.tokens import InvalidToken, SigningKeys, api_token_digest, new_api_token

OLD, NEW = "o" * 40, "n" * 40


def test_a_token_signed_with_the_old_key_verifies_while_the_old_key_stays_in_the_ring():
    token, _ = SigningKeys([OLD]).issue(subject="u1", version=1, type="access", ttl=timedelta(minutes=5))
    rotated = SigningKeys([NEW, OLD])
    assert rotated.verify(token, type="access").subject == "u1"
    fresh, _ = rotated.issue(subject="u1", version=1, type="access", ttl=timedelta(minutes=5))
    assert SigningKeys([NEW]).verify(fresh, type="access").subject == "u1"
    with pytest.raises(InvalidToken) as dropped:
        SigningKeys([NEW]).verify(token, type="access")
    assert dropped.value.code == "token.unknown_key"


def test_short_keys_are_refused_naming_their_position():
    with pytest.raises(ValueError, match="number 2"):
        SigningKeys([NEW, "short"])


def test_a_none_algorithm_token_is_refused():
    import jwt

    token, _ = SigningKeys([OLD]).issue(subject="u1", version=1, type="access", ttl=timedelta(minutes=5))
    header = jwt.get_unverified_header(token)
    claims = jwt.decode(token, options={"verify_signature": False})
    unsigned = jwt.encode(claims, key=None, algorithm="none", headers={"kid": header["kid"]})
    with pytest.raises(InvalidToken):
        SigningKeys([OLD]).verify(unsigned, type="access")


def test_api_tokens_are_random_prefixed_and_stored_as_a_digest():
    first, second = new_api_token(), new_api_token()
    assert first.startswith("lh_") and first != second and len(first) > 40
    assert api_token_digest(first) != first and len(api_token_digest(first)) == 64


def test_passwords_hash_with_argon2id_and_the_policy_names_each_rule():
    stored = hash_password("Corr3ct-horse")
    assert stored.startswith("$argon2id$")
    assert verify_password("Corr3ct-horse", stored)[0] and not verify_password("wrong", stored)[0]
    assert not verify_password("anything", None)[0]
    assert not verify_password("anything", "not-a-hash")[0]
    assert password_problems("aaaaaaaaaaaa", username="x") == ["password.too_simple"]
    assert password_problems("li-Secret-99", username="li") == ["password.contains_username"]
    assert password_problems("Corr3ct-horse", username="li") == []
