"""Source instances (sealed secrets, rotation) and end to end with real partner-side signers."""

from __future__ import annotations

import asyncio
import contextlib
import json
from datetime import UTC, datetime

import pytest
from pydantic import Field, SecretStr
from sqlalchemy import select
from standardwebhooks.webhooks import Webhook as StandardSigner
from svix.webhooks import Webhook as SvixSigner
from webhooks_inbox_support import SECRET, Recorder, StubConfig, StubSource, make_host, running_hub, wait_for

import plugins.webhook_sources.plugin as builtin_sources
from core.webhooks import WebhookInboxEvent, WebhookSourceInstance
from hub.webhooks.sources import UnknownSourceInstance, generate_whsec, secret_field_kinds
from plugins.manager import make_plugin_manager
from plugins.sdk import WebhookSource, WebhookSourceConfig, hookimpl


class SourcesPlugin:
    """The built-in generic sources, added to the test host like any plugin."""

    LENDHUB_HOOK_API = "1.0"

    @hookimpl
    def register_webhook_sources(self, register):
        builtin_sources.register_webhook_sources(register)


def _signed(signer, msg_id: str, payload: dict) -> tuple[bytes, dict[str, str]]:
    body = json.dumps(payload)
    now = datetime.now(UTC)
    signature = signer.sign(msg_id, now, body)
    headers = {
        "webhook-id": msg_id,
        "webhook-timestamp": str(int(now.timestamp())),
        "webhook-signature": signature,
        "content-type": "application/json",
    }
    return body.encode(), headers


async def test_secrets_are_sealed_listed_masked_and_never_echoed(engine, database_url, tmp_path):
    async with running_hub(database_url, tmp_path) as (client, runtime):
        listed = await client.get("/api/webhooks/sources")
        assert listed.status_code == 200 and SECRET not in listed.text
        [item] = listed.json()
        assert item["config"]["secrets"] == ["***"] and item["secrets_active"] == 1
        assert item["path"] == "/webhooks/stub-hmac/partner"
        async with runtime.sessions() as session:
            row = await session.scalar(select(WebhookSourceInstance))
        assert "secrets" not in row.config and SECRET not in (row.secrets_ciphertext or "")
        duplicate = await client.post(
            "/api/webhooks/sources",
            json={"source": "stub-hmac", "name": "partner", "config": {"secrets": [SECRET]}},
        )
        assert duplicate.status_code == 409
        unknown = await client.post("/api/webhooks/sources", json={"source": "nope", "name": "x"})
        assert unknown.status_code == 422 and "stub-hmac" in unknown.text
        invalid = await client.post(
            "/api/webhooks/sources",
            json={"source": "stub-hmac", "name": "y", "config": {"secrets": "not-a-list"}},
        )
        assert invalid.status_code == 422 and "not-a-list" not in invalid.text
        bad_name = await client.post("/api/webhooks/sources", json={"source": "stub-hmac", "name": "../x"})
        assert bad_name.status_code == 422


async def test_standard_webhooks_partner_end_to_end_with_rotation(engine, database_url, tmp_path):
    recorder = Recorder()
    async with running_hub(database_url, tmp_path, SourcesPlugin(), recorder, workers=True) as (
        client,
        runtime,
    ):
        created = await client.post(
            "/api/webhooks/sources",
            json={"source": "standard-webhooks", "name": "acme-leads", "generate_secret": True},
        )
        assert created.status_code == 201, created.text
        first = created.json()["secret"]
        assert (
            first.startswith("whsec_") and created.json()["path"] == "/webhooks/standard-webhooks/acme-leads"
        )
        listed = await client.get("/api/webhooks/sources")
        assert first not in listed.text
        url = "/webhooks/standard-webhooks/acme-leads"

        payload = {"type": "lead.created", "timestamp": "2026-11-28T10:00:00Z", "data": {"id": "lead-1"}}
        body, headers = _signed(StandardSigner(first), "msg_std_1", payload)
        assert (await client.post(url, content=body, headers=headers)).status_code == 200
        body, headers = _signed(SvixSigner(first), "msg_svix_1", {**payload, "data": {"id": "lead-2"}})
        assert (await client.post(url, content=body, headers=headers)).status_code == 200
        assert (await client.post(url, content=body, headers=headers)).status_code == 200  # duplicate

        rotated = await client.post("/api/webhooks/sources/standard-webhooks/acme-leads/rotate")
        second = rotated.json()["secret"]
        assert second != first and rotated.json()["secrets_active"] == 2
        for n, secret in enumerate((first, second)):
            body, headers = _signed(
                StandardSigner(secret), f"msg_rot_{n}", {**payload, "data": {"id": f"r{n}"}}
            )
            assert (await client.post(url, content=body, headers=headers)).status_code == 200
        retired = await client.post("/api/webhooks/sources/standard-webhooks/acme-leads/retire")
        assert retired.json()["secrets_active"] == 1
        body, headers = _signed(StandardSigner(first), "msg_old", payload)
        refused = await client.post(url, content=body, headers=headers)
        assert refused.status_code == 401 and refused.headers["content-type"] == "application/problem+json"
        body, headers = _signed(StandardSigner(second), "msg_new", {**payload, "data": {"id": "n"}})
        assert (await client.post(url, content=body, headers=headers)).status_code == 200

        async def all_processed():
            async with runtime.sessions() as session:
                rows = (await session.scalars(select(WebhookInboxEvent))).all()
            return rows if len(rows) == 5 and {r.status for r in rows} == {"processed"} else None

        await wait_for(all_processed)
    assert sorted(recorder.calls) == ["msg_new", "msg_rot_0", "msg_rot_1", "msg_std_1", "msg_svix_1"]
    assert set(recorder.calls.values()) == {1}
    assert {d.source for d in recorder.deliveries} == {"standard-webhooks"}


def test_generated_secret_is_a_whsec_of_32_random_bytes():
    import base64

    secret = generate_whsec()
    assert secret.startswith("whsec_") and len(base64.b64decode(secret[6:])) == 32
    assert generate_whsec() != secret


def test_secret_field_kinds_see_lists_and_optionals():
    class Config(WebhookSourceConfig):
        one: SecretStr
        maybe: SecretStr | None = None
        many: list[SecretStr] = Field(default_factory=list)
        plain: str = ""

    assert secret_field_kinds(Config) == {"one": "one", "maybe": "one", "many": "list"}
    assert secret_field_kinds(StubConfig) == {"secrets": "list"}


class _NoConfig(WebhookSource):
    name = "no-config"
    Config = dict  # type: ignore[assignment]


class _BadName(WebhookSource):
    name = "Bad Name"


class _NotASource:
    name = "plain"


@pytest.mark.parametrize(
    ("cls", "reason"),
    [
        (_NotASource, "not a plugins.sdk.WebhookSource subclass"),
        (_NoConfig, "Config is not a plugins.sdk.WebhookSourceConfig subclass"),
        (_BadName, "must be a slug"),
        (type("Nameless", (WebhookSource,), {}), "non-empty 'name'"),
    ],
)
def test_registering_an_invalid_webhook_source_quarantines_the_plugin(cls, reason):
    class Plugin:
        @hookimpl
        def register_webhook_sources(self, register):
            register(cls)

    host = make_plugin_manager(load_entrypoints=False, builtins=())
    record = host.add_plugin("bad", Plugin())
    assert record.status == "quarantined" and reason in (record.reason or "")
    assert host.webhook_sources == {}


def test_a_valid_webhook_source_registers():
    host = make_host()
    assert host.webhook_sources["stub-hmac"].obj is StubSource


async def test_concurrent_cache_misses_share_one_read_and_a_change_meanwhile_wins(
    engine, database_url, tmp_path
):
    async with running_hub(database_url, tmp_path) as (client, runtime):
        from hub.webhooks.deps import get_webhook_service

        class _Req:
            app = client._transport.app  # type: ignore[attr-defined]

        service = await get_webhook_service(_Req())  # type: ignore[arg-type]
        opened = 0

        def counting():
            nonlocal opened
            opened += 1
            return runtime.sessions()

        sources = service.sources
        sources._cache.clear()
        built = await asyncio.gather(*(sources.resolve(counting, "stub-hmac", "partner") for _ in range(20)))
        assert opened == 1 and all(b is built[0] for b in built)

        # A load that read the row before the instance changed must not cache what it read.
        gate, read = asyncio.Event(), asyncio.Event()

        class GatedSession:
            def __init__(self, real):
                self.real = real

            async def scalar(self, stmt):
                row = await self.real.scalar(stmt)
                read.set()
                await gate.wait()  # the read is done; the change lands before the load finishes
                return row

        @contextlib.asynccontextmanager
        async def gated():
            async with runtime.sessions() as real:
                yield GatedSession(real)

        sources._cache.clear()
        loading = asyncio.ensure_future(sources.resolve(gated, "stub-hmac", "partner"))
        await asyncio.wait_for(read.wait(), 5)
        async with runtime.sessions() as session:
            await sources.set_enabled(session, "stub-hmac", "partner", False)
            await session.commit()
        gate.set()
        assert (await loading) is not None  # it read the enabled row, and may use it once
        with pytest.raises(UnknownSourceInstance):
            await sources.resolve(counting, "stub-hmac", "partner")
