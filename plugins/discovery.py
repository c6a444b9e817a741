"""Installed distributions that provide LendHub plugins, found through their entry points."""

from __future__ import annotations

import importlib.metadata as md
import re

__all__ = ["ENTRY_POINT_GROUP", "SELF_DISTRIBUTION", "installed_distributions", "normalize"]

ENTRY_POINT_GROUP = "lendhub"
SELF_DISTRIBUTION = "lendhub"  # its plugins come from ``builtins``, never twice via entry points


def normalize(name: str) -> str:
    """A distribution name as PEP 503 compares them (``Lendhub_Acme`` is ``lendhub-acme``)."""
    return re.sub(r"[-_.]+", "-", name).lower()


def installed_distributions(allow: list[str] | None) -> tuple[list[md.Distribution], list[str]]:
    """Installed distributions with ``lendhub`` entry points, filtered; and allow-listed ones missing.

    Sorted by normalised name, so loading is the same every time. The order no longer decides who
    gets a contested connector slug (``plugins.claims``), but it still names plugins in reports.
    """
    wanted = None if allow is None else {normalize(name) for name in allow}
    found: dict[str, md.Distribution] = {}
    for dist in md.distributions():
        key = normalize(dist.metadata["Name"] or "")
        if not key or key in found or key == SELF_DISTRIBUTION:
            continue  # the first on sys.path wins, as for imports
        if wanted is not None and key not in wanted:
            continue
        if any(ep.group == ENTRY_POINT_GROUP for ep in dist.entry_points):
            found[key] = dist
    missing = sorted((wanted or set()) - set(found) - {SELF_DISTRIBUTION})  # built-ins always load
    return [found[key] for key in sorted(found)], missing
