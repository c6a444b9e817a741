"""Per-instance state: one shared store, but each connector instance's cache and lock keys are its own."""

from __future__ import annotations

import httpx
from sdk_helpers import DemoConnector, make_config

from plugins.sdk import SharedState


def _instance(name: str, state: SharedState, http: httpx.AsyncClient) -> DemoConnector:
    return DemoConnector(make_config(), instance=name, http=http, state=state)


async def test_two_instances_with_the_key_token_do_not_collide(http: httpx.AsyncClient) -> None:
    state = SharedState.memory()
    lender_a, lender_b = _instance("lender-a", state, http), _instance("lender-b", state, http)
    await lender_a.state.cache.set("token", b"token-of-a", ttl=60)
    await lender_b.state.cache.set("token", b"token-of-b", ttl=60)
    assert await lender_a.state.cache.get("token") == b"token-of-a"
    assert await lender_b.state.cache.get("token") == b"token-of-b"
    # The backing store holds both, under each instance's namespace.
    assert await state.cache.get("demo-bureau/lender-a:token") == b"token-of-a"
    assert await state.cache.get("token") is None
    await lender_a.state.cache.delete("token")
    assert await lender_b.state.cache.get("token") == b"token-of-b"


async def test_shared_state_is_the_explicit_way_to_share(http: httpx.AsyncClient) -> None:
    state = SharedState.memory()
    lender_a, lender_b = _instance("lender-a", state, http), _instance("lender-b", state, http)
    await lender_a.shared_state.cache.set("demo:session:user-1", b"s1", ttl=60)
    assert await lender_b.shared_state.cache.get("demo:session:user-1") == b"s1"
    assert await lender_b.state.cache.get("demo:session:user-1") is None


async def test_locks_are_per_instance_too(http: httpx.AsyncClient) -> None:
    state = SharedState.memory()
    lender_a, lender_b = _instance("lender-a", state, http), _instance("lender-b", state, http)
    async with lender_a.state.locks.hold("refresh", ttl=5):
        # Another instance's lock of the same name is free; the same instance's is not.
        async with lender_b.state.locks.hold("refresh", ttl=5, wait=0.1):
            pass
        again = lender_a.state.locks.hold("refresh", ttl=5, wait=0.05)
        try:
            await again.__aenter__()
        except TimeoutError:
            blocked = True
        else:
            blocked = False
            await again.__aexit__(None, None, None)
        assert blocked


async def test_scoped_views_nest_and_close_nothing() -> None:
    closed: list[str] = []
    state = SharedState.memory()

    async def close() -> None:
        closed.append("backing")

    state.closers.append(close)
    view = state.scoped("a").scoped("b")
    assert view.namespace == "a:b:"
    await view.cache.set("k", b"v", ttl=60)
    assert await state.cache.get("a:b:k") == b"v"
    assert view.breakers is state.breakers and view.rates is state.rates
    await view.aclose()
    assert closed == []
    await state.aclose()
    assert closed == ["backing"]
