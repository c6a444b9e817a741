"""Event payloads documented from their models: the hook's docstring names every field."""

from __future__ import annotations

from core import hookspecs
from schemas.events import SubscriptionDisabled

TYPED = {hookspecs.webhook_subscription_disabled: SubscriptionDisabled}


def test_webhook_subscription_disabled_docstring_names_every_payload_field():
    for hook, model in TYPED.items():
        doc = hook.__doc__ or ""
        missing = [name for name in model.model_fields if f"``{name}``" not in doc]
        assert missing == [], f"{hook.__name__} does not document {missing}"
        assert model.__name__ in doc
