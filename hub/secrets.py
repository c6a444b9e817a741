"""Where the key that seals secrets at rest comes from.

``LENDHUB_SECRET_KEY`` (a comma list, newest first, for rotation) wins. Without it the embedded
default keeps a generated key in ``var/secret.key`` (mode 0600) so ``make run`` works offline; an
operator running more than one process must set the variable so every process shares the key.
"""

from __future__ import annotations

import logging
import os
from pathlib import Path

from core.secretbox import SecretBox, generate_key

from .settings import Settings

__all__ = ["load_secret_box"]

log = logging.getLogger(__name__)


def load_secret_box(settings: Settings) -> SecretBox:
    """The box built from the configured key, or from the key file (created on first use)."""
    if settings.secret_key is not None:
        return SecretBox.from_setting(settings.secret_key.get_secret_value())
    return SecretBox([_key_from_file(settings.secret_key_file)])


def _key_from_file(path: Path) -> str:
    if path.exists():
        return path.read_text(encoding="ascii").strip()
    path.parent.mkdir(parents=True, exist_ok=True)
    key = generate_key()
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:  # another process won the race; use its key
        return path.read_text(encoding="ascii").strip()
    with os.fdopen(fd, "w", encoding="ascii") as handle:
        handle.write(key + "\n")
    log.warning("generated a secret key at %s; back it up, or set LENDHUB_SECRET_KEY", path)
    return key
