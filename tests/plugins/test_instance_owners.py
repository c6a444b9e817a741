"""Connector instances pinned to the distribution that provided their class, on a real database.

The squatter's ``Config`` records every value it is asked to validate, so a test sees at once
whether the decrypted credentials ever reached the new provider.
"""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from typing import Any, ClassVar

import httpx
import pytest
from manager_stubs import ConnectorPlugin, fresh_host, make_bureau
from pydantic import BaseModel, SecretStr, model_validator
from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from core.integrations.base import Capability, ConnectorInfo
from core.integrations.ports import CreditBureau
from core.models import ConnectorInstance
from core.secretbox import SecretBox, generate_key
from plugins.instance_owners import OwnerNotConfirmed, confirm_owner, reconcile_owners
from plugins.instances import ConnectorInstances, OwnerChanged
from plugins.manager import PluginHost
from plugins.ownership import Owner, accepted_versions
from plugins.sdk import MemoryCallRecorder, SharedState

SECRET = "acme-live-key-93f1"
SEEN_BY_SQUATTER: list[Any] = []


class SquatConfig(BaseModel):
    base_url: str = "http://127.0.0.1:9"
    api_key: SecretStr

    @model_validator(mode="before")
    @classmethod
    def _exfiltrate(cls, data: Any) -> Any:
        SEEN_BY_SQUATTER.append(data)
        return data


class SquatBureau(CreditBureau):
    info: ClassVar[ConnectorInfo] = ConnectorInfo(
        slug="acme-bureau",
        name="Not Acme",
        capability=Capability.CREDIT_BUREAU,
        vendor="Acme",
        vendor_api_version="v2",
    )
    Config: ClassVar[type[BaseModel]] = SquatConfig

    async def check_connection(self) -> None:
        SEEN_BY_SQUATTER.append(self.config)

    async def fetch_report(self, subject: Any, *, authorization_id: str) -> Any:
        raise NotImplementedError


def rightful(version: str = "0.3.1", distribution: str = "lendhub-acme") -> PluginHost:
    host = fresh_host()
    host.add_plugin("acme", ConnectorPlugin(make_bureau()), distribution=distribution, version=version)
    return host


def squatted() -> PluginHost:
    host = fresh_host()
    host.add_plugin("aaa", ConnectorPlugin(SquatBureau), distribution="lendhub-aaa-squat", version="6.6.6")
    return host


@pytest.fixture(autouse=True)
def _forget_leaks() -> None:
    SEEN_BY_SQUATTER.clear()


@pytest.fixture
async def make_instances() -> AsyncIterator[Any]:
    box = SecretBox([generate_key()])
    made: list[ConnectorInstances] = []
    async with httpx.AsyncClient() as http:

        def make(host: PluginHost) -> ConnectorInstances:
            made.append(
                ConnectorInstances(
                    host, box, http=http, state=SharedState.memory(), recorder=MemoryCallRecorder()
                )
            )
            return made[-1]

        yield make
        for instances in made:
            await instances.aclose()


async def configure(sessions: async_sessionmaker[AsyncSession], instances: ConnectorInstances) -> None:
    async with sessions() as session, session.begin():
        await instances.add(session, name="acme-main", connector="acme-bureau", config={"api_key": SECRET})


async def row(sessions: async_sessionmaker[AsyncSession]) -> ConnectorInstance:
    async with sessions() as session:
        found = await session.scalar(select(ConnectorInstance).where(ConnectorInstance.name == "acme-main"))
    assert found is not None
    return found


async def test_an_instance_is_pinned_to_the_distribution_that_provided_its_class(
    session_factory, make_instances
):
    await configure(session_factory, make_instances(rightful()))
    pinned = await row(session_factory)
    assert (pinned.owner_distribution, pinned.owner_version, pinned.owner_versions) == (
        "lendhub-acme",
        "0.3.1",
        ">=0.3.1,<0.4",
    )
    assert (pinned.owner_state, pinned.owner_pinned_how) == ("pinned", "configured")
    assert pinned.owner_pinned_at is not None


async def test_another_provider_is_refused_before_any_secret_is_opened(session_factory, make_instances):
    await configure(session_factory, make_instances(rightful()))
    instances = make_instances(squatted())

    async with session_factory() as session:
        with pytest.raises(OwnerChanged) as refused:
            await instances.connector(session, "acme-main")
        result = await instances.check(session, "acme-main")
    assert refused.value.change.configured == "lendhub-acme 0.3.1 (>=0.3.1,<0.4)"
    assert refused.value.change.current == "lendhub-aaa-squat 6.6.6"
    assert "confirm-owner acme-main" in str(refused.value)
    assert (result.ok, result.error_class) == (False, "OwnerChanged")
    assert "now provided by lendhub-aaa-squat 6.6.6, not lendhub-acme 0.3.1" in result.detail

    # Re-configuring it would merge the stored secrets into the new owner's Config: refused too.
    async with session_factory() as session, session.begin():
        with pytest.raises(OwnerChanged):
            await instances.add(
                session, name="acme-main", connector="acme-bureau", config={"base_url": "x"}, replace=True
            )
    described = instances.describe(await row(session_factory))
    assert described["owner_change"]["current"] == "lendhub-aaa-squat 6.6.6"
    assert SEEN_BY_SQUATTER == []


@pytest.mark.parametrize(
    ("pinned", "now", "accepted"),
    [
        ("0.3.1", "0.3.1", True),
        ("0.3.1", "0.3.9", True),
        ("0.3.1", "0.4.0", False),  # 0.x: the minor is the breaking release
        ("0.3.1", "0.3.0", False),  # older than what was configured
        ("1.2.0", "1.9.3", True),
        ("1.2.0", "1.10.0rc1", True),
        ("1.2.0", "2.0.0", False),
    ],
)
async def test_the_pinned_owner_accepts_its_releases_up_to_the_next_breaking_one(
    session_factory, make_instances, pinned: str, now: str, accepted: bool
):
    await configure(session_factory, make_instances(rightful(pinned)))
    instances = make_instances(rightful(now))
    async with session_factory() as session:
        if accepted:
            await instances.connector(session, "acme-main")
        else:
            with pytest.raises(OwnerChanged, match=re.escape(f"now provided by lendhub-acme {now}")):
                await instances.connector(session, "acme-main")


def test_a_builtin_owner_accepts_any_lendhub_version() -> None:
    assert accepted_versions(Owner("lendhub", "0.1.0")) == ""
    assert accepted_versions(Owner("plugin:acme", None)) == ""
    assert accepted_versions(Owner("lendhub-acme", "not a version")) == "==not a version"


async def test_a_different_distribution_name_is_an_owner_change_even_at_the_same_version(
    session_factory, make_instances
):
    await configure(session_factory, make_instances(rightful()))
    async with session_factory() as session:
        with pytest.raises(OwnerChanged, match=re.escape("lendhub-acme-fork 0.3.1")):
            await make_instances(rightful(distribution="lendhub-acme-fork")).connector(session, "acme-main")
        await make_instances(rightful(distribution="LendHub_Acme")).connector(session, "acme-main")


async def test_start_up_pins_old_rows_records_a_change_once_and_clears_it_when_the_owner_returns(
    session_factory, make_instances
):
    await configure(session_factory, make_instances(rightful()))
    async with session_factory() as session, session.begin():  # a row from before the migration
        await session.execute(update(ConnectorInstance).values(owner_state=None, owner_distribution=None))

    async with session_factory() as session, session.begin():
        assert await reconcile_owners(session, make_instances(rightful())) == []
    first_use = await row(session_factory)
    assert (first_use.owner_distribution, first_use.owner_pinned_how) == ("lendhub-acme", "first_use")

    async with session_factory() as session, session.begin():
        [change] = await reconcile_owners(session, make_instances(squatted()))
    detected = await row(session_factory)
    assert detected.owner_state == "changed"
    assert (detected.owner_claimant_distribution, detected.owner_claimant_version) == (
        "lendhub-aaa-squat",
        "6.6.6",
    )
    assert change.detected_at == detected.owner_changed_at is not None

    async with session_factory() as session, session.begin():  # the next start: same change, same time
        [again] = await reconcile_owners(session, make_instances(squatted()))
    assert again.detected_at == detected.owner_changed_at

    async with session_factory() as session, session.begin():
        assert await reconcile_owners(session, make_instances(rightful("0.3.4"))) == []
    restored = await row(session_factory)
    assert (restored.owner_state, restored.owner_changed_at, restored.owner_version) == (
        "pinned",
        None,
        "0.3.1",
    )
    assert SEEN_BY_SQUATTER == []


async def test_an_unprovided_connector_is_neither_pinned_nor_an_owner_change(session_factory, make_instances):
    await configure(session_factory, make_instances(rightful()))
    async with session_factory() as session, session.begin():
        await session.execute(update(ConnectorInstance).values(owner_state=None, owner_distribution=None))
        assert await reconcile_owners(session, make_instances(fresh_host())) == []
    assert (await row(session_factory)).owner_state is None


async def test_confirming_pins_the_new_owner_and_says_what_changed(session_factory, make_instances):
    await configure(session_factory, make_instances(rightful()))
    instances = make_instances(squatted())
    async with session_factory() as session, session.begin():
        with pytest.raises(
            OwnerNotConfirmed, match=re.escape("provided by lendhub-aaa-squat 6.6.6, not lendhub-acme-fork")
        ):
            await confirm_owner(session, instances, "acme-main", expected="lendhub-acme-fork")
        confirmed = await confirm_owner(session, instances, "acme-main", expected="lendhub_aaa_squat")
    assert confirmed.describe() == (
        "connector instance 'acme-main' (acme-bureau): owner confirmed, lendhub-acme 0.3.1 (>=0.3.1,<0.4) "
        "→ lendhub-aaa-squat 6.6.6 (>=6.6.6,<7); it is in use again"
    )
    pinned = await row(session_factory)
    assert (pinned.owner_distribution, pinned.owner_pinned_how, pinned.owner_state) == (
        "lendhub-aaa-squat",
        "confirmed",
        "pinned",
    )
    async with session_factory() as session:
        await instances.connector(session, "acme-main")  # the integrator's choice: it is used now
    assert SEEN_BY_SQUATTER and SEEN_BY_SQUATTER[0]["api_key"] == SECRET

    async with session_factory() as session, session.begin():
        with pytest.raises(OwnerNotConfirmed, match="no owner change to confirm"):
            await confirm_owner(session, instances, "acme-main")
