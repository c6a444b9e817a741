"""Two deployments on one Redis database, told apart by ``LENDHUB_REDIS_PREFIX``."""

import uuid

import pytest
from redis.asyncio import Redis

from core.jobs import JobHandlers
from hub.settings import SettingsError, load_settings
from hub.state import RedisNamespace, make_shared_state
from hub.webhooks.service import WebhookService
from hub.workers import make_job_queue

pytestmark = pytest.mark.redis


@pytest.fixture
async def prefixes(redis_url):
    """Two fresh prefixes; their keys are deleted afterwards."""
    names = [f"lhtest-{uuid.uuid4().hex[:8]}-{side}" for side in ("a", "b")]
    yield names
    client = Redis.from_url(redis_url)
    try:
        for name in names:
            keys = [key async for key in client.scan_iter(match=f"{name}:*")]
            if keys:
                await client.delete(*keys)
    finally:
        await client.aclose()


def test_the_default_prefix_keeps_the_keys_lendhub_always_used():
    namespace = RedisNamespace(load_settings().redis_prefix)
    assert (namespace.state, namespace.jobs, namespace.webhooks_seen) == (
        "lendhub:",
        "lendhub:jobs",
        "lendhub:webhooks:seen",
    )


@pytest.mark.parametrize("bad", ["", "has space", "a:b", "x" * 65])
def test_a_malformed_prefix_is_refused_by_name(bad, monkeypatch):
    monkeypatch.setenv("LENDHUB_REDIS_PREFIX", bad)
    with pytest.raises(SettingsError, match="LENDHUB_REDIS_PREFIX"):
        load_settings()


async def test_job_wake_ups_go_to_the_deployments_own_stream(redis_url, prefixes):
    queues = [
        make_job_queue(
            load_settings(redis_url=redis_url, redis_prefix=prefix, inprocess_workers=False),
            session_factory=None,  # a producer never opens a session
            handlers=JobHandlers(),
        )
        for prefix in prefixes
    ]
    client = Redis.from_url(redis_url)
    try:
        for queue in queues:
            await queue.start()
        await queues[0].notify("job-a")
        assert await client.xlen(f"{prefixes[0]}:jobs") == 1
        assert await client.xlen(f"{prefixes[1]}:jobs") == 0  # created empty by its start
        await queues[1].notify("job-b")
        assert await client.xlen(f"{prefixes[0]}:jobs") == 1
        assert await client.xlen(f"{prefixes[1]}:jobs") == 1
    finally:
        for queue in queues:
            await queue.stop()
        await client.aclose()


async def test_a_breaker_opened_in_one_deployment_stays_closed_in_the_other(redis_url, prefixes):
    states = [make_shared_state(redis_url, prefix=RedisNamespace(prefix).state) for prefix in prefixes]
    try:
        opened = await states[0].breakers.failure("demo:main", now=1000.0, threshold=1)
        assert opened.state == "open"
        assert (await states[1].breakers.get("demo:main")).state == "closed"
        assert (await states[0].breakers.get("demo:main")).state == "open"
    finally:
        for state in states:
            await state.aclose()


async def test_a_webhook_remembered_in_one_deployment_is_unknown_to_the_other(redis_url, prefixes):
    client = Redis.from_url(redis_url)
    services = [
        WebhookService(
            host=None,  # the duplicate fast path needs none of the rest
            box=None,
            sessions=None,
            redis=client,
            redis_namespace=RedisNamespace(prefix),
        )
        for prefix in prefixes
    ]
    try:
        caches = [service.dedupe for service in services]
        assert caches[0] is not None and caches[1] is not None
        await caches[0].remember([("stub", "partner", "evt-1")])
        assert await caches[0].known([("stub", "partner", ["evt-1"])]) == [True]
        assert await caches[1].known([("stub", "partner", ["evt-1"])]) == [False]
        assert await client.exists(f"{prefixes[0]}:webhooks:seen:stub:partner:evt-1") == 1
    finally:
        await client.aclose()
