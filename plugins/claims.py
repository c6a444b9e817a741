"""Who may register which connector slug: built-in slugs are reserved; a contested slug goes to nobody.

Connector instances name a slug, so the plugin that holds a slug receives the instances configured
with it, decrypted credentials included. Two rules keep a plugin from taking what is not its own:

- The slugs of LendHub's built-in connectors are reserved. A third-party plugin registering one is
  quarantined, even when the built-in itself failed to load: that is exactly when a squatter would
  otherwise get the slug.
- A slug claimed by two plugins goes to neither: every claimant is quarantined, whichever loaded
  first. Deciding by loading order would reward the package whose name sorts first, which is the
  one thing a squatter can choose.

Every claim is remembered, including those of plugins quarantined later, so a third claimant of a
contested slug is refused as well and the outcome does not depend on the order plugins load in.
Instances are also pinned to the distribution that provided their class (``plugins.ownership``),
which covers the case no registry rule can: the rightful plugin is simply not installed any more.
"""

from __future__ import annotations

__all__ = ["BUILTIN_CONNECTOR_SLUGS", "SlugClaims", "reserved_slug_problem"]

BUILTIN_CONNECTOR_SLUGS: frozenset[str] = frozenset(
    {
        "baihang-credit",
        "dingtalk-oa",
        "esign",
        "feishu-oa",
        "http-scorer",
        "kingdee",
        "lendhub-scorecard",
        "pboc-credit",
        "qichacha-business-registry",
        "qichacha-litigation",
        "tianyancha-business-registry",
        "tianyancha-litigation",
    }
)
"""Slugs only a built-in plugin may register. Written out rather than collected from the built-ins
at start-up, because a built-in that fails to import registers nothing and its slug must stay
reserved all the same; a test fails when this list and the built-ins disagree."""


def reserved_slug_problem(slug: str, *, builtin: bool) -> str | None:
    """Why a plugin may not register ``slug``, or ``None`` when it may (as far as reservation goes)."""
    if slug in BUILTIN_CONNECTOR_SLUGS and not builtin:
        return f"connector slug {slug!r} is reserved for LendHub's built-in connectors"
    return None


class SlugClaims:
    """Every plugin that tried to register each slug, in the order they tried."""

    def __init__(self) -> None:
        self._claimants: dict[str, list[str]] = {}

    def claim(self, slug: str, plugin: str) -> list[str]:
        """Record ``plugin``'s claim on ``slug``; return the other plugins that claimed it before."""
        claimants = self._claimants.setdefault(slug, [])
        if plugin not in claimants:
            claimants.append(plugin)
        return [other for other in claimants if other != plugin]

    def claimants(self, slug: str) -> list[str]:
        """The plugins that claimed ``slug``, first claim first."""
        return list(self._claimants.get(slug, ()))
