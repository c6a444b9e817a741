"""``lendhub connectors list | add | check | confirm-owner``: connector instances from a shell.

Secrets given with ``--set`` would land in shell history, so ``--set-env KEY=VAR`` reads a value
from the environment instead. Output never contains a secret.
"""

from __future__ import annotations

import json
import os
from collections.abc import Awaitable, Callable
from dataclasses import asdict
from typing import Any, TypeVar

import click

from core import audit
from core.access import Actor
from core.integrations.errors import ConnectorError
from hub.runtime import Runtime
from plugins.instance_owners import OwnerConfirmation, confirm_owner
from plugins.instances import InstanceError
from plugins.port_calls import CallRefused, call_operation, port_operations

from .common import parse_pairs, run_with_runtime
from .output import echo_json, echo_table, json_option

__all__ = ["connectors"]

T = TypeVar("T")


def _run(work: Callable[[Runtime], Awaitable[T]]) -> T:
    return run_with_runtime(work, errors=(InstanceError,))


@click.group("connectors")
def connectors() -> None:
    """Configure and check connector instances."""


@connectors.command("list")
@json_option
def list_instances(as_json: bool) -> None:
    """List configured instances (secrets shown as ***) and the connectors file's skipped entries."""

    async def work(runtime: Runtime) -> tuple[list[dict[str, Any]], list[str]]:
        async with runtime.sessions() as session:
            described = [runtime.instances.describe(row) for row in await runtime.instances.list(session)]
        return described, runtime.config_problems

    described, problems = _run(work)
    for problem in problems:
        click.echo(f"problem: {problem}", err=True)
    if as_json:
        echo_json(described)
        return
    echo_table(
        ["NAME", "CONNECTOR", "CAPABILITY", "STATE"],
        [[item["name"], item["connector"], item["capability"], _state(item)] for item in described],
        empty="no connector instances; add one with `lendhub connectors add`",
    )


def _state(item: dict[str, Any]) -> str:
    state = "enabled" if item["enabled"] else "disabled"
    if not item["available"]:
        state += ", connector not loaded"
    if item["owner_change"]:
        change = item["owner_change"]
        state += f", OWNER CHANGED {change['configured']} → {change['current']}, unusable until confirmed"
    return state


@connectors.command("add")
@click.argument("name")
@click.option("--connector", "slug", required=True, help="Connector slug (see `lendhub plugins`).")
@click.option("--set", "settings", multiple=True, metavar="KEY=VALUE", help="A config value.")
@click.option("--set-env", "from_env", multiple=True, metavar="KEY=ENVVAR", help="A value read from the env.")
@click.option("--config-json", help="The whole config as a JSON object (merged under --set).")
@click.option(
    "--replace",
    is_flag=True,
    help="Replace the whole config if the instance exists (secrets are needed again for a new host).",
)
@click.option("--disabled", is_flag=True, help="Add it disabled.")
def add(
    name: str,
    slug: str,
    settings: tuple[str, ...],
    from_env: tuple[str, ...],
    config_json: str | None,
    replace: bool,
    disabled: bool,
) -> None:
    """Add (or with --replace, update) the instance NAME of a connector."""
    config: dict[str, Any] = {}
    if config_json:
        try:
            loaded = json.loads(config_json)
        except json.JSONDecodeError as exc:
            raise click.BadParameter(f"not JSON: {exc.msg}", param_hint="--config-json") from None
        if not isinstance(loaded, dict):
            raise click.BadParameter("expected a JSON object", param_hint="--config-json")
        config.update(loaded)
    config.update(parse_pairs(settings, "--set"))
    for key, var in parse_pairs(from_env, "--set-env").items():
        if var not in os.environ:
            raise click.BadParameter(f"environment variable {var} is not set", param_hint="--set-env")
        config[key] = os.environ[var]

    async def work(runtime: Runtime) -> dict[str, Any]:
        async with runtime.sessions() as session, session.begin():
            existing = await runtime.instances.list(session)
            before = next((runtime.instances.describe(r) for r in existing if r.name == name), None)
            row = await runtime.instances.add(
                session, name=name, connector=slug, config=config, enabled=not disabled, replace=replace
            )
            described = runtime.instances.describe(row)
            await audit.record(
                session,
                Actor.operator(),
                "connectors.replace" if before is not None else "connectors.create",
                target_type="connector_instance",
                target_id=name,
                before=before,
                after=described,
            )
            return described

    echo_json(_run(work))


@connectors.command("confirm-owner")
@click.argument("name")
@click.option(
    "--distribution",
    metavar="DIST",
    help="Confirm only if DIST is the distribution providing the connector now.",
)
def confirm_owner_command(name: str, distribution: str | None) -> None:
    """Trust the distribution that provides NAME's connector now, and use the instance again."""

    async def work(runtime: Runtime) -> OwnerConfirmation:
        async with runtime.sessions() as session, session.begin():
            confirmed = await confirm_owner(session, runtime.instances, name, expected=distribution)
            await audit.record(
                session,
                Actor.operator(),
                "connectors.confirm_owner",
                target_type="connector_instance",
                target_id=confirmed.instance,
                before={"owner": confirmed.previous},
                after={"owner": confirmed.owner, "enabled": confirmed.enabled},
            )
            return confirmed

    click.echo(_run(work).describe())


@connectors.command("check")
@click.argument("name")
def check(name: str) -> None:
    """Try NAME's credentials against the vendor; exit 1 and say what is wrong if they fail."""

    async def work(runtime: Runtime) -> dict[str, Any]:
        async with runtime.sessions() as session:
            await runtime.instances.get(session, name)
            return asdict(await runtime.instances.check(session, name))

    result = _run(work)
    if result["ok"]:
        click.echo(f"{name}: ok — {result['detail']} ({result['latency_ms']:.0f} ms)")
        return
    raise click.ClickException(f"{name}: {result['error_class']}: {result['detail']}")


@connectors.command("call")
@click.argument("name")
@click.argument("operation", required=False)
@click.option(
    "--json", "arguments", default="{}", show_default=True, help="The operation's arguments as a JSON object."
)
@click.option(
    "--purpose", default=None, help="Why you call it (recorded in the audit trail); required for a call."
)
def call(name: str, operation: str | None, arguments: str, purpose: str | None) -> None:
    """Call one OPERATION of instance NAME by hand and print the canonical answer as JSON.

    Without OPERATION, lists the operations and their parameters. A call reaches the real vendor
    (or the configured simulator) with the instance's credentials, goes through the same retries,
    limits and call log as the CRM's own calls, and is audited as the operator's, with its purpose.
    """
    try:
        parsed = json.loads(arguments)
    except json.JSONDecodeError as exc:
        raise click.BadParameter(f"not JSON: {exc.msg}", param_hint="--json") from None
    if not isinstance(parsed, dict):
        raise click.BadParameter("expected a JSON object of named arguments", param_hint="--json")
    if operation is not None and not (purpose or "").strip():
        raise click.UsageError("--purpose is required: say why this vendor call is made (it is audited)")

    async def work(runtime: Runtime) -> Any:
        async with runtime.sessions() as session, session.begin():
            connector = await runtime.instances.connector(session, name)
            if operation is None:
                return {op: str(sig) for op, sig in port_operations(connector).items()}
            await audit.record(
                session,
                Actor.operator(),
                "connectors.call",
                target_type="connector_instance",
                target_id=name,
                after={
                    "operation": operation,
                    "arguments": sorted(parsed),
                    "purpose": (purpose or "").strip(),
                },
            )
        answer = await call_operation(connector, operation, parsed)
        return answer.model_dump(mode="json") if hasattr(answer, "model_dump") else answer

    echo_json(run_with_runtime(work, errors=(InstanceError, CallRefused, ConnectorError)))
