"""Built-in generic webhook sources: Standard Webhooks (v1 and v1a), DocuSign Connect, 企业微信.

They are registered by :mod:`plugins.webhook_sources.plugin` through ``register_webhook_sources``,
the same hook a vendor's package uses; vendor-specific sources (e签宝, 飞书, 钉钉) live in their
connector packages. Every source here is pure: it verifies raw bytes and parses, nothing else.
"""

from .docusign import DocuSignConfig, DocuSignConnect
from .standard import (
    StandardWebhooks,
    StandardWebhooksConfig,
    StandardWebhooksV1a,
    StandardWebhooksV1aConfig,
)
from .wecom import WeComCallbacks, WeComConfig

__all__ = [
    "DocuSignConfig",
    "DocuSignConnect",
    "StandardWebhooks",
    "StandardWebhooksConfig",
    "StandardWebhooksV1a",
    "StandardWebhooksV1aConfig",
    "WeComCallbacks",
    "WeComConfig",
]
