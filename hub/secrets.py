"""Where the keys come from: connector secrets, personal data, and access-token signing.

Each has a setting (``LENDHUB_SECRET_KEY``, ``LENDHUB_PII_KEYS`` with ``LENDHUB_PII_INDEX_KEY``,
``LENDHUB_AUTH_KEYS``; comma lists, newest first, for rotation) that wins. Without it the embedded
default keeps generated keys in files under ``var/`` (mode 0600) with a warning, so ``make run``
works offline; an operator running more than one process must set the variables so every process
shares the keys.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Callable
from pathlib import Path

from core.access.tokens import SigningKeys
from core.pii import KeyRing, KeyRingError, load_or_create_key_file
from core.secretbox import SecretBox, SecretBoxError, generate_key

from .settings import Settings, SettingsError

__all__ = ["KeySettingError", "load_all_keys", "load_key_ring", "load_secret_box", "load_signing_keys"]

log = logging.getLogger(__name__)


class KeySettingError(SettingsError):
    """A key setting or key file is unusable; the message names it and says how to fix it."""


def load_all_keys(settings: Settings) -> None:
    """Load every key set once, so a bad one stops start-up in one line instead of a traceback."""
    load_secret_box(settings)
    load_key_ring(settings)
    load_signing_keys(settings)


def load_secret_box(settings: Settings) -> SecretBox:
    """The box built from the configured key, or from the key file (created on first use)."""
    try:
        if settings.secret_key is not None:
            return SecretBox.from_setting(settings.secret_key.get_secret_value())
        return SecretBox([_key_from_file(settings.secret_key_file, generate_key, "LENDHUB_SECRET_KEY")])
    except SecretBoxError as exc:
        where = (
            "LENDHUB_SECRET_KEY"
            if settings.secret_key is not None
            else f"the key file {settings.secret_key_file}"
        )
        raise KeySettingError(f"{where}: {exc}") from None


def load_key_ring(settings: Settings) -> KeyRing:
    """The PII key ring from the settings, or from the key file (created on first use)."""
    try:
        if settings.pii_keys is not None and settings.pii_index_key is not None:
            return KeyRing.from_setting(
                settings.pii_keys.get_secret_value(), settings.pii_index_key.get_secret_value()
            )
        return load_or_create_key_file(settings.pii_key_path)
    except KeyRingError as exc:
        hint = "each key is 32 random bytes in base64; make one with `lendhub keys new`"
        raise KeySettingError(f"{exc} ({hint})") from None


def load_signing_keys(settings: Settings) -> SigningKeys:
    """The access-token signing keys from the settings, or from the key file."""
    if settings.auth_keys is not None:
        try:
            return SigningKeys.from_setting(settings.auth_keys.get_secret_value())
        except ValueError as exc:
            raise KeySettingError(
                f"LENDHUB_AUTH_KEYS: {exc}; make one with `lendhub keys new --auth`"
            ) from None
    return SigningKeys([_key_from_file(settings.auth_key_path, SigningKeys.generate, "LENDHUB_AUTH_KEYS")])


def _key_from_file(path: Path, generate: Callable[[], str], variable: str) -> str:
    if path.exists():
        return path.read_text(encoding="ascii").strip()
    path.parent.mkdir(parents=True, exist_ok=True)
    key = generate()
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:  # another process won the race; use its key
        return path.read_text(encoding="ascii").strip()
    with os.fdopen(fd, "w", encoding="ascii") as handle:
        handle.write(key + "\n")
    log.warning("generated a key at %s; back it up, or set %s", path, variable)
    return key
