"""Message catalogs: what people read comes from here, in Chinese first and in English.

Codes (``auth.invalid_credentials``) are stable in every language and travel in API answers and
logs; the text is looked up per request from ``catalog.<lang>.yaml`` and, for each bounded
context, ``messages/<area>.<lang>.yaml`` (one file per area, so contexts grow their messages
without touching each other's). A code defined in two files is refused when the catalog loads. A
code missing from a catalog falls back to the other language and then to the code itself, and a
test keeps both catalogs holding the same codes.
"""

from __future__ import annotations

from functools import cache
from pathlib import Path
from typing import Any

import yaml

__all__ = ["DEFAULT_LANGUAGE", "LANGUAGES", "catalog", "load_catalog", "negotiate", "translate"]

LANGUAGES = ("zh-CN", "en")
DEFAULT_LANGUAGE = "zh-CN"


HERE = Path(__file__).parent


def load_catalog(directory: Path, language: str) -> dict[str, str]:
    """The messages of ``language`` from ``directory``'s main file and its ``messages/`` files."""
    paths = [directory / f"catalog.{language}.yaml", *sorted(directory.glob(f"messages/*.{language}.yaml"))]
    merged: dict[str, str] = {}
    origin: dict[str, Path] = {}
    for path in paths:
        if not path.is_file():
            continue
        data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
        for code, text in data.items():
            if str(code) in merged:
                raise ValueError(f"message code {code!r} is defined in both {origin[str(code)]} and {path}")
            merged[str(code)] = str(text)
            origin[str(code)] = path
    return merged


@cache
def catalog(language: str) -> dict[str, str]:
    """Every message of ``language`` by code."""
    return load_catalog(HERE, language)


def negotiate(accept_language: str | None) -> str:
    """The best of our languages for an ``Accept-Language`` header; Chinese when nothing matches."""
    if not accept_language:
        return DEFAULT_LANGUAGE
    ranked: list[tuple[float, int, str]] = []
    for position, part in enumerate(accept_language.split(",")):
        tag, _, params = part.strip().partition(";")
        quality = 1.0
        if params.strip().startswith("q="):
            try:
                quality = float(params.strip()[2:])
            except ValueError:
                quality = 0.0
        ranked.append((-quality, position, tag.strip().lower()))
    for _, _, tag in sorted(ranked):
        if tag.startswith("zh"):
            return "zh-CN"
        if tag.startswith("en"):
            return "en"
    return DEFAULT_LANGUAGE


def translate(code: str, language: str = DEFAULT_LANGUAGE, **params: Any) -> str:
    """The message for ``code`` in ``language`` with ``params`` filled in."""
    text = catalog(language).get(code)
    if text is None:
        other = next((lang for lang in LANGUAGES if lang != language), DEFAULT_LANGUAGE)
        text = catalog(other).get(code, code)
    try:
        return text.format(**params)
    except (KeyError, IndexError, ValueError):
        return text
