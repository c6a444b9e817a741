"""Password hashing (argon2id through pwdlib) and the minimum password policy.

Nothing cryptographic is written here: pwdlib picks argon2id with its recommended parameters and
tells us when a stored hash should be upgraded. The policy is the floor a lender's auditors ask
for; longer is always allowed.
"""

from __future__ import annotations

from pwdlib import PasswordHash

__all__ = ["MIN_PASSWORD_LENGTH", "hash_password", "password_problems", "verify_password"]

MIN_PASSWORD_LENGTH = 10

_hasher = PasswordHash.recommended()
# Verified when the username is unknown, so a wrong name costs the same time as a wrong password.
_DUMMY_HASH = _hasher.hash("lendhub-timing-equaliser")


def hash_password(password: str) -> str:
    """An argon2id hash of ``password``, with its salt and parameters."""
    return _hasher.hash(password)


def verify_password(password: str, stored_hash: str | None) -> tuple[bool, str | None]:
    """Whether ``password`` matches, and a fresh hash when the stored one uses old parameters.

    With ``stored_hash`` ``None`` a dummy hash is checked so the time taken does not reveal it.
    """
    if stored_hash is None:
        _hasher.verify(password, _DUMMY_HASH)
        return False, None
    try:
        return _hasher.verify_and_update(password, stored_hash)
    except Exception:  # a malformed stored hash: never a match
        return False, None


def password_problems(password: str, *, username: str) -> list[str]:
    """Message codes for each rule ``password`` breaks; empty when it is acceptable."""
    problems = []
    if len(password) < MIN_PASSWORD_LENGTH:
        problems.append("password.too_short")
    classes = sum(
        (
            any(c.islower() for c in password),
            any(c.isupper() for c in password),
            any(c.isdigit() for c in password),
            any(not c.isalnum() for c in password),
        )
    )
    if classes < 2:
        problems.append("password.too_simple")
    if username and username.lower() in password.lower():
        problems.append("password.contains_username")
    return problems
