"""Calling one operation of a connector's port by name, with arguments given as JSON.

``lendhub connectors call INSTANCE OPERATION --json '{…}'`` lets an integrator try a vendor by
hand (one report, one company profile) exactly as the CRM would call it: the operation must be
a method of the connector's capability port, the JSON object supplies its parameters by name and
is validated against their types, and the answer is the canonical model, as JSON.
"""

from __future__ import annotations

import inspect
import typing
from typing import Any

from pydantic import TypeAdapter, ValidationError

from core.integrations.base import Connector
from core.integrations.ports import PORTS

__all__ = ["CallRefused", "call_operation", "port_operations"]


class CallRefused(Exception):
    """The operation or its arguments do not fit the port; the message lists what would."""


def port_operations(connector: Connector) -> dict[str, inspect.Signature]:
    """The port's operations (the public async methods its capability class declares), with signatures."""
    port = PORTS[connector.info.capability]
    return {
        name: inspect.signature(value)
        for name, value in sorted(vars(port).items())
        if inspect.iscoroutinefunction(value) and not name.startswith("_")
    }


def _parameters(connector: Connector, operation: str) -> dict[str, tuple[Any, bool]]:
    port = PORTS[connector.info.capability]
    hints = typing.get_type_hints(getattr(port, operation))
    signature = inspect.signature(getattr(port, operation))
    return {
        name: (hints.get(name, Any), parameter.default is inspect.Parameter.empty)
        for name, parameter in signature.parameters.items()
        if name != "self"
    }


async def call_operation(connector: Connector, operation: str, arguments: dict[str, Any]) -> Any:
    """Call ``operation`` with ``arguments`` validated against its parameter types.

    Raises:
        CallRefused: unknown operation, a missing or unknown argument, or one of the wrong type.
        ConnectorError: whatever the vendor call raises.
    """
    operations = port_operations(connector)
    if operation not in operations:
        raise CallRefused(
            f"{operation!r} is not an operation of this connector; use one of {', '.join(operations)}"
        )
    parameters = _parameters(connector, operation)
    unknown = sorted(set(arguments) - set(parameters))
    missing = sorted(name for name, (_, required) in parameters.items() if required and name not in arguments)
    if unknown or missing:
        expected = ", ".join(f"{name}{'' if required else '?'}" for name, (_, required) in parameters.items())
        wrong = [f"unknown {unknown}"] if unknown else []
        wrong += [f"missing {missing}"] if missing else []
        raise CallRefused(f"{operation} takes {expected}; " + "; ".join(wrong))
    values: dict[str, Any] = {}
    for name, value in arguments.items():
        try:
            values[name] = TypeAdapter(parameters[name][0]).validate_python(value)
        except ValidationError as exc:
            problems = "; ".join(f"{'.'.join(map(str, e['loc'])) or name}: {e['msg']}" for e in exc.errors())
            raise CallRefused(f"{operation}: argument {name!r} is not valid: {problems}") from None
    return await getattr(connector, operation)(**values)
