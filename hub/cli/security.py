"""``lendhub audit verify`` and ``lendhub keys rotate``: the operator's checks on the data at rest."""

from __future__ import annotations

from datetime import UTC, datetime

import click

from core import pii
from core.access.tokens import SigningKeys
from core.audit import ChainBreak, verify_chain
from core.models import metadata
from core.pii.keyring import add_key_to_file
from core.pii.rotation import rotate_keys
from hub.runtime import Runtime
from hub.secrets import load_key_ring
from hub.settings import load_settings

from .common import run_with_runtime
from .output import echo_json, echo_table, json_option

__all__ = ["audit", "keys"]


@click.group("audit")
def audit() -> None:
    """The tamper-evident audit log."""


@audit.command("verify")
@json_option
def verify(as_json: bool) -> None:
    """Walk the hash chain; exit 1 naming the first entry changed, deleted or inserted."""

    async def work(runtime: Runtime) -> tuple[int, ChainBreak | None]:
        async with runtime.sessions() as session:
            return await verify_chain(session)

    count, broken = run_with_runtime(work)
    if as_json:
        echo_json(
            {
                "intact": broken is None,
                "entries_verified": count,
                "broken_at": None if broken is None else broken.seq,
                "reason": None if broken is None else broken.reason,
            }
        )
        if broken is not None:
            raise SystemExit(1)
        return
    if broken is not None:
        raise click.ClickException(f"audit chain broken at entry {broken.seq}: {broken.reason}")
    click.echo(f"audit chain intact: {count} entries verified")


@click.group("keys")
def keys() -> None:
    """Keys that seal personal data at rest."""


@keys.command("new")
@click.option("--auth", is_flag=True, help="A token-signing key for LENDHUB_AUTH_KEYS instead.")
@click.option("--kid", default=None, help="Key id for LENDHUB_PII_KEYS (default: k + today's date).")
@json_option
def new_key(auth: bool, kid: str | None, as_json: bool) -> None:
    """Print a new key: a PII key as KID:BASE64 (put it first in LENDHUB_PII_KEYS), or a signing key.

    Without ``--json`` the key alone is printed, ready to paste into the variable.
    """
    if auth:
        _echo_key({"kind": "auth", "key": SigningKeys.generate()}, as_json)
        return
    kid = kid or "k" + datetime.now(UTC).strftime("%Y%m%d")
    if not kid.isalnum():
        raise click.BadParameter("letters and digits only", param_hint="--kid")
    _echo_key({"kind": "pii", "kid": kid, "key": f"{kid}:{pii.KeyRing.generate_key()}"}, as_json)


def _echo_key(described: dict[str, str], as_json: bool) -> None:
    if as_json:
        echo_json(described)
    else:
        click.echo(described["key"])


@keys.command("rotate")
@click.option("--new-key", is_flag=True, help="Embedded default only: add a new key to the key file first.")
@click.option("--batch", type=click.IntRange(1, 100_000), default=500, show_default=True)
@json_option
def rotate(new_key: bool, batch: int, as_json: bool) -> None:
    """Re-seal every stored value under the newest key, in batches (safe to interrupt and rerun)."""
    settings = load_settings()
    if new_key:
        if settings.pii_keys is not None:
            raise click.UsageError(
                "--new-key edits the key file; with LENDHUB_PII_KEYS set, put the new key first there"
            )
        load_key_ring(settings)  # creates the file on a fresh install
        kid = add_key_to_file(settings.pii_key_path)
        click.echo(f"added key {kid} in front of {settings.pii_key_path}", err=as_json)

    async def work(runtime: Runtime) -> dict[str, int]:
        ring = pii.current()
        return await rotate_keys(
            runtime.sessions,
            metadata,
            ring,
            batch=batch,
            progress=lambda label, n: click.echo(f"  {label}: {n} re-sealed", err=True),
        )

    done = run_with_runtime(work)
    current = load_key_ring(settings).current_kid
    if as_json:
        echo_json({"key": current, "re_sealed": done, "total": sum(done.values())})
        return
    echo_table(["COLUMN", "RE-SEALED"], sorted(done.items()), empty="nothing is sealed yet")
    click.echo(f"re-sealed {sum(done.values())} value(s) under key {current}")
