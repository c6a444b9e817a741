"""Connector instances end to end: the API, the encrypted store, a real vendor simulator over HTTP."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator

import httpx
import pytest
from authsupport import authorise
from demo_vendor import GOOD_KEY, DemoPlugin, Simulator, serve
from sqlalchemy import select

from core.call_log import CallLogEntry
from core.models import ConnectorInstance
from hub.app import create_app
from hub.settings import load_settings
from plugins.manager import make_plugin_manager


@pytest.fixture
def simulator() -> Iterator[tuple[Simulator, str]]:
    sim = Simulator()
    with serve(sim.app) as url:
        yield sim, url


@pytest.fixture
async def hub(engine, database_url, tmp_path) -> AsyncIterator[tuple[httpx.AsyncClient, object]]:
    host = make_plugin_manager(load_entrypoints=False)
    host.add_plugin("demo-vendor", DemoPlugin(), distribution="demo-vendor", version="1.0")
    settings = load_settings(
        database_url=database_url, secret_key_file=tmp_path / "secret.key", inprocess_workers=False
    )
    app = create_app(settings, host=host)
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://127.0.0.1") as client:
            await authorise(client, app.state.runtime)
            yield client, app.state.runtime


def _config(url: str, key: str = GOOD_KEY, **extra: object) -> dict[str, object]:
    return {"base_url": url, "api_key": key, "max_attempts": 2, "backoff_initial": 0.0, **extra}


async def test_add_instance_masks_and_encrypts_secret(hub, simulator):
    client, runtime = hub
    _, url = simulator
    response = await client.post(
        "/api/connectors", json={"name": "demo-main", "connector": "demo-bureau", "config": _config(url)}
    )
    assert response.status_code == 201, response.text
    body = response.json()
    assert body["config"]["api_key"] == "***"
    assert body["capability"] == "credit_bureau"
    assert GOOD_KEY not in response.text
    async with runtime.sessions() as session:
        row = await session.scalar(select(ConnectorInstance).where(ConnectorInstance.name == "demo-main"))
    assert row is not None and "api_key" not in row.config
    assert GOOD_KEY not in (row.secrets_ciphertext or "") and row.secrets_ciphertext
    listed = await client.get("/api/connectors")
    assert [item["name"] for item in listed.json()] == ["demo-main"]
    assert GOOD_KEY not in listed.text


async def test_check_accepts_good_credentials_and_names_bad_ones(hub, simulator):
    client, _ = hub
    _, url = simulator
    await client.post(
        "/api/connectors", json={"name": "good", "connector": "demo-bureau", "config": _config(url)}
    )
    await client.post(
        "/api/connectors", json={"name": "bad", "connector": "demo-bureau", "config": _config(url, "wrong")}
    )
    ok = (await client.post("/api/connectors/good/check")).json()
    assert ok["ok"] is True
    bad = (await client.post("/api/connectors/bad/check")).json()
    assert bad["ok"] is False and bad["error_class"] == "AuthError"
    assert "rejected the credentials" in bad["detail"]


@pytest.mark.parametrize(
    ("mode", "error_class", "words"),
    [
        ("html", "VendorContractError", "not as the vendor does"),
        ("503", "TransientError", "could not be reached"),
    ],
)
async def test_check_explains_vendor_faults(hub, simulator, mode, error_class, words):
    client, _ = hub
    sim, url = simulator
    sim.mode = mode
    await client.post(
        "/api/connectors", json={"name": "demo", "connector": "demo-bureau", "config": _config(url)}
    )
    result = (await client.post("/api/connectors/demo/check")).json()
    assert result["ok"] is False and result["error_class"] == error_class
    assert words in result["detail"]


async def test_check_unreachable_vendor_is_transient(hub):
    client, _ = hub
    from demo_vendor import free_port

    config = _config(f"http://127.0.0.1:{free_port()}", connect_timeout=0.5, total_timeout=2)
    await client.post("/api/connectors", json={"name": "gone", "connector": "demo-bureau", "config": config})
    result = (await client.post("/api/connectors/gone/check")).json()
    assert result["ok"] is False and result["error_class"] == "TransientError"


async def test_unknown_connector_is_a_problem_listing_known_ones(hub):
    client, _ = hub
    response = await client.post("/api/connectors", json={"name": "x", "connector": "nope", "config": {}})
    assert response.status_code == 422
    assert response.headers["content-type"].startswith("application/problem+json")
    problem = response.json()
    assert problem["type"].endswith("/unknown-connector")
    assert any("demo-bureau" in line for line in problem["problems"])


async def test_invalid_config_names_fields_without_echoing_values(hub):
    client, _ = hub
    response = await client.post(
        "/api/connectors",
        json={
            "name": "x",
            "connector": "demo-bureau",
            "config": {
                "base_url": "http://127.0.0.1:1",
                "connect_timeout": "very-secret-ish",
                "max_attempts": 99,
            },
        },
    )
    assert response.status_code == 422
    problem = response.json()
    fields = " ".join(problem["problems"])
    assert "api_key" in fields and "connect_timeout" in fields and "max_attempts" in fields
    assert "very-secret-ish" not in response.text


async def test_duplicate_instance_conflicts_and_unknown_is_404(hub, simulator):
    client, _ = hub
    _, url = simulator
    spec = {"name": "demo", "connector": "demo-bureau", "config": _config(url)}
    assert (await client.post("/api/connectors", json=spec)).status_code == 201
    again = await client.post("/api/connectors", json=spec)
    assert again.status_code == 409 and again.json()["type"].endswith("/connector-instance-exists")
    missing = await client.post("/api/connectors/nobody/check")
    assert missing.status_code == 404


async def test_replace_keeps_secret_when_not_given(hub, simulator):
    client, _ = hub
    _, url = simulator
    await client.post(
        "/api/connectors", json={"name": "demo", "connector": "demo-bureau", "config": _config(url)}
    )
    replaced = await client.put(
        "/api/connectors/demo", json={"config": {"base_url": url, "member_code": "M9"}}
    )
    assert replaced.status_code == 200, replaced.text
    assert replaced.json()["config"]["member_code"] == "M9"
    assert (await client.post("/api/connectors/demo/check")).json()["ok"] is True


async def test_calls_are_logged_to_the_database_without_secrets_or_pii(hub, simulator):
    client, runtime = hub
    _, url = simulator
    await client.post(
        "/api/connectors", json={"name": "demo", "connector": "demo-bureau", "config": _config(url)}
    )
    async with runtime.sessions() as session:
        connector = await runtime.instances.connector(session, "demo")
    from schemas.canonical import PersonSubject

    subject = PersonSubject(name="张三", id_number="11010519491231002X", mobile="13812345678")
    report = await connector.fetch_report(subject, authorization_id="auth-1")
    assert report.report_id == "R-002X"
    await runtime.recorder.flush()
    async with runtime.sessions() as session:
        rows = list(await session.scalars(select(CallLogEntry)))
    assert [(r.operation, r.attempt, r.status_code, r.idempotency_key) for r in rows] == [
        ("fetch_report", 1, 200, "auth-1")
    ]
    dumped = " ".join(str(v) for r in rows for v in vars(r).values())
    assert GOOD_KEY not in dumped
    assert "11010519491231002X" not in dumped


async def test_readyz_reports_database_and_breakers(hub, simulator):
    client, _ = hub
    sim, url = simulator
    await client.post(
        "/api/connectors",
        json={
            "name": "demo",
            "connector": "demo-bureau",
            "config": _config(url, breaker_failure_threshold=2),
        },
    )
    ready = await client.get("/readyz")
    assert ready.status_code == 200
    assert ready.json()["checks"]["database"]["status"] == "ok"
    assert ready.json()["breakers"]["demo"]["state"] == "closed"
    sim.mode = "503"
    await client.post("/api/connectors/demo/check")
    after = (await client.get("/readyz")).json()
    assert after["breakers"]["demo"]["state"] == "open"
    assert after["status"] == "degraded"
    assert (await client.get("/healthz")).json() == {"status": "ok"}


async def test_plugin_report_shows_instances_with_breaker_state(hub, simulator):
    client, _ = hub
    sim, url = simulator
    config = _config(url, breaker_failure_threshold=1, max_attempts=1)
    await client.post("/api/connectors", json={"name": "demo", "connector": "demo-bureau", "config": config})

    def demo_instances(report):
        plugin = next(p for p in report if p["name"] == "demo-vendor")
        return plugin["connectors"][0]["instances"]

    before = demo_instances((await client.get("/api/plugins")).json())
    assert [(i["name"], i["enabled"], i["breaker"]) for i in before] == [("demo", True, "closed")]
    sim.mode = "503"
    await client.post("/api/connectors/demo/check")
    after = demo_instances((await client.get("/api/plugins")).json())
    assert after[0]["breaker"] == "open" and after[0]["detail"]["failures"] >= 1
