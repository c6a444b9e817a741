import httpx
import pytest

from plugins.sdk import FaultInjector, FaultPlan
from plugins.sdk.simulation import parse_fault


async def _vendor(scope, receive, send):
    await send(
        {"type": "http.response.start", "status": 200, "headers": [(b"content-type", b"application/json")]}
    )
    await send({"type": "http.response.body", "body": b'{"ok": true}'})


def _client(app):
    return httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://sim")


async def test_queued_faults_apply_in_order_to_matching_paths_then_vendor_answers():
    plan = FaultPlan()
    plan.push("503", "429:2", path_filter="/v1/report")
    async with _client(FaultInjector(_vendor, plan)) as client:
        assert (await client.get("/v1/token")).status_code == 200  # not matching: untouched
        first = await client.get("/v1/report")
        second = await client.get("/v1/report")
        third = await client.get("/v1/report")
    assert first.status_code == 503
    assert second.status_code == 429 and second.headers["retry-after"] == "2"
    assert third.json() == {"ok": True}
    assert plan.served == 2


async def test_header_fault_and_malformed_body():
    async with _client(FaultInjector(_vendor)) as client:
        response = await client.get("/x", headers={"X-Sandbox-Fault": "malformed"})
        bad = await client.get("/x", headers={"X-Sandbox-Fault": "explode"})
    assert response.status_code == 200 and response.headers["content-type"] == "text/html"
    assert bad.status_code == 400 and "expected a status" in bad.text


async def test_standing_latency_fault_still_answers():
    async with _client(FaultInjector(_vendor, standing="latency:0.01")) as client:
        assert (await client.get("/x")).json() == {"ok": True}


@pytest.mark.parametrize("spec", ["", "teapot", "503:abc", "200"])
def test_bad_fault_specs_are_refused(spec):
    with pytest.raises(ValueError):
        parse_fault(spec)
