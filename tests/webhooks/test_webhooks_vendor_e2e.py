"""A vendor's simulator calls back into a running hub over loopback HTTP, as the vendor would.

The 飞书 simulator pushes its encrypted, signed approval events to ``/webhooks/feishu/<instance>``
of a hub served by uvicorn; the built-in 飞书 webhook source verifies and decrypts them, the
inbox stores them, in-process workers deliver them to a plugin's ``webhook_received`` exactly
once, and an older status never overwrites a newer one.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
import uvicorn
from authsupport import token_headers
from waiting import wait_for

from connectors.feishu.connector import FeishuApproval, FeishuConfig
from connectors.feishu.simulator import SANDBOX_APPROVAL_CODE, SANDBOX_CONFIG, create_app
from hub.app import create_app as create_hub
from hub.settings import load_settings
from plugins.manager import make_plugin_manager
from plugins.sdk import MemoryCallRecorder, hookimpl
from plugins.sdk.sandbox import CLEAN_BORROWER
from plugins.testing import free_port, serve_app
from schemas.canonical.oa import ApprovalRequest


class Listener:
    """A plugin acting on verified vendor events, as a contract or disbursement module would."""

    def __init__(self) -> None:
        self.seen: list[tuple[str, str, dict[str, Any]]] = []

    @hookimpl
    def webhook_received(self, delivery: Any) -> None:
        self.seen.append((delivery.source, delivery.event.id, dict(delivery.event.payload)))


@pytest.fixture
async def hub(engine, database_url, tmp_path) -> AsyncIterator[tuple[str, Listener, Any]]:
    listener = Listener()
    host = make_plugin_manager(load_entrypoints=False)
    host.add_plugin("listener", listener)
    settings = load_settings(
        database_url=database_url,
        secret_key_file=tmp_path / "secret.key",
        job_lease_seconds=2.0,
        webhook_retry_schedule="0.1,0.2",
    )
    app = create_hub(settings, host=host)
    port = free_port()
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning"))
    task = asyncio.create_task(server.serve())
    await wait_for(lambda: server.started)
    try:
        yield f"http://127.0.0.1:{port}", listener, app.state.runtime
    finally:
        server.should_exit = True
        await task


async def test_feishu_callbacks_reach_plugins_once_through_the_inbox(hub) -> None:
    url, listener, runtime = hub
    async with httpx.AsyncClient(base_url=url, headers=await token_headers(runtime)) as client:
        created = await client.post(
            "/api/webhooks/sources",
            json={
                "source": "feishu",
                "name": "sandbox",
                "config": {
                    "encrypt_key": SANDBOX_CONFIG["encrypt_key"],
                    "verification_token": SANDBOX_CONFIG["verification_token"],
                },
            },
        )
        assert created.status_code == 201, created.text
        assert "sandbox-feishu-encrypt-key" not in created.text

        sim_app = create_app(callback_url=f"{url}/webhooks/feishu/sandbox", decision_delay=0.05)
        with serve_app(sim_app) as sim:
            config = FeishuConfig.model_validate({**SANDBOX_CONFIG, "base_url": sim.url})
            connector = FeishuApproval(config, http=httpx.AsyncClient(), recorder=MemoryCallRecorder())
            instance = await connector.create_instance(
                ApprovalRequest(
                    template_code=SANDBOX_APPROVAL_CODE,
                    initiator="ou_sandbox_initiator",
                    form={"borrower_id": CLEAN_BORROWER.id_number, "amount": "50000.00"},
                    idempotency_key="loan-e2e-1",
                )
            )
            await wait_for(lambda: len(listener.seen) >= 2)
            await connector.aclose()

        inbox = (await client.get("/api/webhooks/inbox", params={"source": "feishu"})).json()["items"]
    events = [payload["event"] for _, _, payload in listener.seen]
    assert [e["status"] for e in events] == ["PENDING", "APPROVED"]
    assert {e["instance_code"] for e in events} == {instance.instance_id}
    assert len({event_id for _, event_id, _ in listener.seen}) == 2  # each event once
    assert sorted(row["status"] for row in inbox) == ["processed", "processed"]
    assert {row["object_id"] for row in inbox} == {instance.instance_id}
    assert str(SANDBOX_CONFIG["verification_token"]) not in str(listener.seen)  # credential stripped
