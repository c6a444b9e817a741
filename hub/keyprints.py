"""Refuse to start a process whose keys cannot open what the other processes sealed.

Two processes started without ``LENDHUB_SECRET_KEY`` from different directories each generate a
key file; each then seals with its own key, and a connector secret written through one answers
500 on the other while both report ready. The same goes for the PII keys (sealed columns, blind
indexes) and the token-signing keys (a token signed by one is refused by the other). So the
database records, per key set, a fingerprint of the key the processes seal (or sign) with, and a
process compares its keys with it at start (``verify_keys``, called by ``Runtime.start`` and
``lendhub worker``).

The fingerprint is HMAC-SHA256 of a fixed label (naming the key set) under the key: the same key
gives the same value everywhere, and the value reveals nothing about the key (HMAC is a
pseudo-random function; without the key it cannot be recomputed, nor the key recovered from it).

The rule, per key set, with the process's keys newest first ``k0, k1, …``:

- no row yet: the first process records ``k0``;
- the row names ``k0``: the process seals with the same key as the others;
- the row names an older key ``ki`` of the process: it rotated (a new key in front, the old one
  kept). It can open everything sealed under the recorded key, so it starts, and moves the row
  to ``k0``: from now on values are sealed under ``k0`` too, and a process started without it
  could not open them, so it is refused. Roll a new key out to every process before relying on
  it (the rotation procedure in ``docs/operators.md`` does);
- the row names a key the process does not have: refused, in one line naming the setting.

A process already running when another moves the row past its keys reports ``unavailable`` in
``/readyz`` from then on (``outdated_keys``), so a load balancer stops sending it requests it
would answer with 500.

What this checks is the question that matters: does this process hold the key values are being
sealed with now? It does not prove it holds every older key some stored value may still be
sealed under; ``lendhub keys rotate`` re-seals those, and only then may the old key go.

A deliberate change of keys with nothing left sealed under the old ones (a test install reset)
clears the record: ``DELETE FROM key_fingerprints`` (or one ``key_set``).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import insert, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncEngine

from core.access.tokens import SigningKeys
from core.db import utcnow
from core.models import KeyFingerprint
from core.pii import KeyRing
from core.secretbox import SecretBox

from .database import DatabaseUnavailable
from .secrets import load_key_ring, load_secret_box, load_signing_keys
from .settings import Settings

__all__ = ["KeySet", "KeysMismatch", "key_sets", "outdated_keys", "process_key_sets", "verify_keys"]

LABEL = "lendhub key fingerprint v1:"


class KeysMismatch(DatabaseUnavailable):
    """This process's keys cannot open what other processes sealed in the database.

    A ``DatabaseUnavailable``, so every start-up path reports it as one line and exits non-zero.
    """


@dataclass(frozen=True)
class KeySet:
    """One set of keys as the check sees it.

    Attributes:
        name: the ``key_fingerprints.key_set`` value.
        setting: the variable an operator fixes, named in the refusal.
        source: where this process took the keys from (the variable or a key file).
        what: what this process could not do with the others' data, for the refusal.
        fingerprints: the keys' fingerprints, newest (the one sealing or signing) first.
    """

    name: str
    setting: str
    source: str
    what: str
    fingerprints: Sequence[str]


def key_sets(settings: Settings, *, box: SecretBox, ring: KeyRing, signing: SigningKeys) -> list[KeySet]:
    """The process's four key sets with their fingerprints."""

    def source(variable: str, configured: object, path: object) -> str:
        return variable if configured is not None else f"the key file {path}"

    pii_source = source("LENDHUB_PII_KEYS", settings.pii_keys, settings.pii_key_path)
    return [
        KeySet(
            "secret",
            "LENDHUB_SECRET_KEY",
            source("LENDHUB_SECRET_KEY", settings.secret_key, settings.secret_key_file),
            "open connector and webhook secrets the other processes sealed",
            box.fingerprints(LABEL + "secret"),
        ),
        KeySet(
            "pii",
            "LENDHUB_PII_KEYS",
            pii_source,
            "open personal data the other processes sealed",
            ring.fingerprints(LABEL + "pii"),
        ),
        KeySet(
            "pii_index",
            "LENDHUB_PII_INDEX_KEY",
            pii_source,
            "find personal data by the blind indexes the other processes wrote",
            [ring.index_fingerprint(LABEL + "pii_index")],
        ),
        KeySet(
            "auth",
            "LENDHUB_AUTH_KEYS",
            source("LENDHUB_AUTH_KEYS", settings.auth_keys, settings.auth_key_path),
            "verify access tokens the other processes signed",
            signing.fingerprints(LABEL + "auth"),
        ),
    ]


def process_key_sets(settings: Settings) -> list[KeySet]:
    """The key sets this process would load from its settings (key files made if missing)."""
    return key_sets(
        settings,
        box=load_secret_box(settings),
        ring=load_key_ring(settings),
        signing=load_signing_keys(settings),
    )


async def verify_keys(engine: AsyncEngine, sets: Sequence[KeySet]) -> None:
    """Record or compare each key set's fingerprint (see the module docstring for the rules).

    Raises:
        KeysMismatch: naming the first key set whose keys differ from the others', and the
            setting that fixes it.
    """
    for key_set in sets:
        await _verify(engine, key_set)


async def _verify(engine: AsyncEngine, key_set: KeySet) -> None:
    newest = key_set.fingerprints[0]
    for _ in range(5):  # another process may move the row between our read and our write
        async with engine.connect() as connection:
            recorded = await connection.scalar(
                select(KeyFingerprint.fingerprint).where(KeyFingerprint.key_set == key_set.name)
            )
            if recorded == newest:
                return
            try:
                if recorded is None:
                    values = {"key_set": key_set.name, "fingerprint": newest, "updated_at": utcnow()}
                    await connection.execute(insert(KeyFingerprint).values(**values))
                    await connection.commit()
                    return
                if recorded not in key_set.fingerprints:
                    raise KeysMismatch(str(engine.url), _refusal(key_set))
                moved = await connection.execute(
                    update(KeyFingerprint)
                    .where(KeyFingerprint.key_set == key_set.name, KeyFingerprint.fingerprint == recorded)
                    .values(fingerprint=newest, updated_at=utcnow())
                )
                await connection.commit()
                if moved.rowcount == 1:
                    return
            except IntegrityError:
                await connection.rollback()  # the first process's insert won the race; compare
    raise KeysMismatch(str(engine.url), f"the {key_set.setting} fingerprint kept changing; try again")


async def outdated_keys(engine: AsyncEngine, sets: Sequence[KeySet]) -> list[str]:
    """For ``/readyz``: the refusal of each key set whose recorded key this process does not hold.

    A process that started fine can fall behind while it runs: another started with a rotated
    ring and moved the record to a key this one lacks, so what that one seals now, this one
    cannot open. Readiness then says ``unavailable`` with the line the start would have refused
    with; restarting with the new ring fixes it.
    """
    async with engine.connect() as connection:
        rows = await connection.execute(select(KeyFingerprint.key_set, KeyFingerprint.fingerprint))
        recorded = {row.key_set: row.fingerprint for row in rows}
    return [
        _refusal(key_set)
        for key_set in sets
        if key_set.name in recorded and recorded[key_set.name] not in key_set.fingerprints
    ]


def _refusal(key_set: KeySet) -> str:
    return (
        f"{key_set.setting}: with its keys (from {key_set.source}) this process cannot "
        f"{key_set.what}; give every process the same {key_set.setting}"
    )
