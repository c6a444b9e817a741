"""Signed access and refresh tokens for people (PyJWT), random API tokens for systems.

Access tokens are short-lived HS256 JWTs; refresh tokens are longer-lived JWTs of another type.
Both carry the user's ``token_version``: disabling a user, or changing their password, bumps it
and every token issued before stops at once. The signing keys form a ring (newest signs, all
verify, each named by a ``kid`` derived from it), so an operator rotates them by putting a new
key in front and dropping the old one once its tokens have expired.

API tokens are 256 random bits with a ``lh_`` prefix (so a leaked one is recognisable in a scan)
and are stored only as a SHA-256 digest.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Literal

import jwt

from core.db import utcnow

__all__ = [
    "API_TOKEN_PREFIX",
    "InvalidToken",
    "SigningKeys",
    "TokenClaims",
    "api_token_digest",
    "new_api_token",
]

API_TOKEN_PREFIX = "lh_"
ISSUER = "lendhub"
MIN_KEY_BYTES = 32
TokenType = Literal["access", "refresh"]


class InvalidToken(Exception):
    """A bearer token that cannot be trusted; ``code`` says why (expired, bad signature, …)."""

    def __init__(self, code: str) -> None:
        super().__init__(code)
        self.code = code


@dataclass(frozen=True)
class TokenClaims:
    """What a verified JWT says: whose it is, of which version, of which type, until when."""

    subject: str
    version: int
    type: TokenType
    expires_at: datetime


def _kid(key: str) -> str:
    return hashlib.sha256(key.encode("utf-8")).hexdigest()[:12]


class SigningKeys:
    """The ring of JWT signing keys: the first signs, any verifies."""

    def __init__(self, keys: list[str]) -> None:
        if not keys:
            raise ValueError("at least one signing key is needed")
        short = [i for i, key in enumerate(keys, 1) if len(key.encode("utf-8")) < MIN_KEY_BYTES]
        if short:
            raise ValueError(
                f"signing key(s) number {', '.join(map(str, short))} are shorter than {MIN_KEY_BYTES} bytes"
            )
        self._keys = {_kid(key): key for key in keys}
        self._current = _kid(keys[0])

    @classmethod
    def from_setting(cls, value: str) -> SigningKeys:
        """From a comma list of keys, newest first."""
        return cls([part.strip() for part in value.split(",") if part.strip()])

    @staticmethod
    def generate() -> str:
        """A new random key for ``LENDHUB_AUTH_KEYS``."""
        return secrets.token_urlsafe(48)

    def fingerprints(self, label: str) -> list[str]:
        """HMAC-SHA256 of ``label`` under each key, newest first: tells keys apart, reveals none."""
        return [
            hmac.new(key.encode("utf-8"), label.encode("utf-8"), hashlib.sha256).hexdigest()
            for key in self._keys.values()
        ]

    def issue(self, *, subject: str, version: int, type: TokenType, ttl: timedelta) -> tuple[str, int]:
        """A signed token and its lifetime in seconds."""
        now = utcnow()
        claims: dict[str, Any] = {
            "iss": ISSUER,
            "sub": subject,
            "ver": version,
            "typ": type,
            "iat": int(now.timestamp()),
            "exp": int((now + ttl).timestamp()),
            "jti": secrets.token_hex(8),
        }
        token = jwt.encode(
            claims, self._keys[self._current], algorithm="HS256", headers={"kid": self._current}
        )
        return token, int(ttl.total_seconds())

    def verify(self, token: str, *, type: TokenType) -> TokenClaims:
        """The claims of a token this ring signed, of ``type``; ``InvalidToken`` otherwise."""
        try:
            header = jwt.get_unverified_header(token)
        except jwt.PyJWTError:
            raise InvalidToken("token.malformed") from None
        key = self._keys.get(str(header.get("kid", "")))
        if key is None:
            raise InvalidToken("token.unknown_key")
        try:
            claims = jwt.decode(
                token,
                key,
                algorithms=["HS256"],
                issuer=ISSUER,
                options={"require": ["exp", "iat", "sub", "iss"]},
            )
        except jwt.ExpiredSignatureError:
            raise InvalidToken("token.expired") from None
        except jwt.PyJWTError:
            raise InvalidToken("token.invalid") from None
        if claims.get("typ") != type or not isinstance(claims.get("ver"), int):
            raise InvalidToken("token.wrong_type")
        return TokenClaims(
            subject=str(claims["sub"]),
            version=int(claims["ver"]),
            type=type,
            expires_at=datetime.fromtimestamp(int(claims["exp"]), tz=utcnow().tzinfo),
        )


def new_api_token() -> str:
    """A new API token value; shown once, never stored."""
    return API_TOKEN_PREFIX + secrets.token_urlsafe(32)


def api_token_digest(token: str) -> str:
    """The digest stored for (and looked up by) an API token."""
    return hashlib.sha256(token.encode("utf-8")).hexdigest()
