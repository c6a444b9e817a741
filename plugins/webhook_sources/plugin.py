"""Registers the built-in generic webhook sources through the same hook third-party plugins use."""

from typing import Any

from plugins.sdk import hookimpl

from . import DocuSignConnect, StandardWebhooks, StandardWebhooksV1a, WeComCallbacks

LENDHUB_HOOK_API = "1.0"


@hookimpl
def register_webhook_sources(register: Any) -> None:
    """Register Standard Webhooks (v1, v1a), DocuSign Connect and 企业微信 callbacks."""
    for source in (StandardWebhooks, StandardWebhooksV1a, DocuSignConnect, WeComCallbacks):
        register(source)
