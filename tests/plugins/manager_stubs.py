"""Stub connectors and plugins shared by the plugin-manager tests (not a test module)."""

from __future__ import annotations

from typing import Any, ClassVar

import click
from fastapi import APIRouter
from pydantic import BaseModel, SecretStr

from core.integrations.base import Capability, ConnectorInfo, SupportLevel
from core.integrations.ports import CreditBureau, Litigation
from plugins.manager import PluginHost, make_plugin_manager
from plugins.sdk import WebhookSource
from plugins.sdk.markers import hookimpl
from schemas.canonical import CreditReport, LitigationRecord, PersonSubject


class AcmeConfig(BaseModel):
    base_url: str = "http://127.0.0.1:9"
    api_key: SecretStr = SecretStr("s3cr3t-value")


def make_bureau(slug: str = "acme-bureau", **info: Any) -> type[CreditBureau]:
    fields: dict[str, Any] = {
        "slug": slug,
        "name": "Acme bureau",
        "capability": Capability.CREDIT_BUREAU,
        "vendor": "Acme",
        "vendor_api_version": "v2",
        "support_level": SupportLevel.PARTNER,
    }
    fields.update(info)

    class AcmeBureau(CreditBureau):
        info: ClassVar[ConnectorInfo] = ConnectorInfo(**fields)
        Config: ClassVar[type[BaseModel]] = AcmeConfig

        async def fetch_report(self, subject: PersonSubject, *, authorization_id: str) -> CreditReport:
            raise NotImplementedError

    return AcmeBureau


class AcmeLitigation(Litigation):
    info = ConnectorInfo(
        slug="acme-litigation",
        name="Acme courts",
        capability=Capability.LITIGATION,
        vendor="Acme",
        vendor_api_version="v1",
    )
    Config = AcmeConfig

    async def search(self, subject_name: str, *, id_number: str | None = None) -> LitigationRecord:
        raise NotImplementedError


class ConnectorPlugin:
    """A plugin object registering the given connector classes."""

    LENDHUB_HOOK_API = "1.0"

    def __init__(self, *classes: Any) -> None:
        self.classes = classes

    @hookimpl
    def register_connectors(self, register: Any) -> None:
        for cls in self.classes:
            register(cls)


class EsignWebhooks(WebhookSource):
    name = "acme-esign"


@click.command(name="acme-sync")
def acme_sync() -> None:
    """Sync Acme."""


acme_router = APIRouter(prefix="/api/plugins/acme")


@acme_router.get("/status")
def acme_status() -> dict[str, bool]:
    return {"ok": True}


def fresh_host(**kwargs: Any) -> PluginHost:
    """A new host with only the default-hook built-in: no installed distributions, no connectors.

    Built-in connectors are tested by their own conformance suites; here they would only add noise
    to exact assertions about what a plugin registered.
    """
    kwargs.setdefault("load_entrypoints", False)
    kwargs.setdefault("builtins", ("plugins.defaults",))
    return make_plugin_manager(**kwargs)
