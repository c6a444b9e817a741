"""Built-in fallbacks for decision hooks, registered like any other plugin.

Each implementation is ``trylast`` so an installed plugin with an opinion always wins.
"""

from __future__ import annotations

from core.hookspecs import HOOK_API_VERSION
from core.integrations.base import Capability
from plugins.sdk.markers import hookimpl

__all__ = ["LENDHUB_HOOK_API", "select_connector_instance"]

LENDHUB_HOOK_API = HOOK_API_VERSION


@hookimpl(trylast=True)
def select_connector_instance(capability: Capability, product: str, instances: list[str]) -> str | None:
    """Pick the instance named ``default``, else the first configured, else none.

    The capability and product are ignored: without a routing plugin every product shares the
    lender's main account, which is what a single-account set-up expects.
    """
    if "default" in instances:
        return "default"
    return instances[0] if instances else None
