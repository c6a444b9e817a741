"""The select_connector_instance decision hook: built-in default and plugin overrides."""

from __future__ import annotations

from typing import Any

import pytest
from manager_stubs import fresh_host

from core.integrations.base import Capability
from plugins.sdk.markers import hookimpl


@pytest.mark.parametrize(
    ("instances", "chosen"),
    [
        (["baihang-a", "default", "baihang-b"], "default"),
        (["baihang-a", "baihang-b"], "baihang-a"),
        ([], None),
    ],
)
def test_select_connector_instance_default(instances: list[str], chosen: str | None) -> None:
    host = fresh_host()
    assert host.select_connector_instance(Capability.CREDIT_BUREAU, "consumer", instances) == chosen


class SmeRouting:
    @hookimpl
    def select_connector_instance(self, capability: Capability, product: str, instances: list[str]) -> Any:
        if capability == Capability.CREDIT_BUREAU and product.startswith("sme-"):
            return "baihang-sme"
        return None


def test_select_connector_instance_override_wins_over_the_trylast_default() -> None:
    host = fresh_host()
    host.add_plugin("sme-routing", SmeRouting())
    instances = ["default", "baihang-sme"]
    assert host.select_connector_instance(Capability.CREDIT_BUREAU, "sme-term", instances) == "baihang-sme"
    # Deferring with None falls through to the built-in.
    assert host.select_connector_instance(Capability.CREDIT_BUREAU, "consumer", instances) == "default"
    assert host.select_connector_instance(Capability.LITIGATION, "sme-term", instances) == "default"


def test_select_connector_instance_with_opt_in_arguments() -> None:
    class ByProduct:
        @hookimpl
        def select_connector_instance(self, product: str) -> str | None:
            return "auto" if product == "auto-loan" else None

    host = fresh_host()
    host.add_plugin("by-product", ByProduct())
    assert host.select_connector_instance(Capability.RISK_MODEL, "auto-loan", ["default", "auto"]) == "auto"


def test_select_connector_instance_without_builtins_returns_none() -> None:
    host = fresh_host(builtins=())
    assert host.select_connector_instance(Capability.RISK_MODEL, "x", ["default"]) is None
