"""Connector instances declared in a YAML file, applied at start-up.

The file lets an integrator keep instance settings in version control and secrets in the
environment::

    connectors:
      - name: baihang-main
        connector: baihang-credit
        enabled: true
        config:
          base_url: https://api.example.com
          account: XXXX_A0001
          password: ${BAIHANG_PASSWORD}

``${VAR}`` is replaced by the environment variable (a missing one is an error naming it). An entry
is the instance's whole config, applied as a replace: an entry that moves an existing instance to
another host without its secrets is refused (secrets are bound to their host). Each
entry is checked and applied on its own: a bad one (no ``name``, an unknown connector, a field
that does not validate, a missing variable) is skipped and reported — in the log at start, in
``/readyz`` and in ``lendhub connectors list`` — and every other entry still applies.
"""

from __future__ import annotations

import logging
import os
import re
from pathlib import Path
from typing import TYPE_CHECKING, Any

import yaml

from plugins.instances import InstanceError

if TYPE_CHECKING:
    from .runtime import Runtime

__all__ = ["ConnectorsFileError", "apply_connectors_file", "read_connectors_file"]

log = logging.getLogger(__name__)

_ENV_REF = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_]*)\}")


class ConnectorsFileError(Exception):
    """The file cannot be read as a list of instances; names the file and the reason."""


def _expand(value: Any, where: str) -> Any:
    if isinstance(value, str):

        def lookup(match: re.Match[str]) -> str:
            name = match.group(1)
            if name not in os.environ:
                raise ConnectorsFileError(f"{where}: environment variable {name} is not set")
            return os.environ[name]

        return _ENV_REF.sub(lookup, value)
    if isinstance(value, dict):
        return {k: _expand(v, f"{where}.{k}") for k, v in value.items()}
    if isinstance(value, list):
        return [_expand(v, f"{where}[{i}]") for i, v in enumerate(value)]
    return value


def read_connectors_file(path: Path) -> tuple[list[dict[str, Any]], list[str]]:
    """The well-formed entries of the file (``${VAR}`` not yet expanded), and one problem per bad one.

    Raises:
        ConnectorsFileError: the file itself cannot be read or has no ``connectors:`` list.
    """
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise ConnectorsFileError(f"{path}: cannot be read ({exc.strerror})") from None
    except yaml.YAMLError as exc:
        raise ConnectorsFileError(f"{path}: not valid YAML ({exc})") from None
    entries = data.get("connectors") if isinstance(data, dict) else None
    if not isinstance(entries, list):
        raise ConnectorsFileError(f"{path}: expected a top-level 'connectors:' list")
    good: list[dict[str, Any]] = []
    problems: list[str] = []
    for index, entry in enumerate(entries):
        if not isinstance(entry, dict) or not {"name", "connector"} <= set(entry):
            problems.append(f"{path}: entry {index + 1} needs at least 'name' and 'connector'; skipped")
        elif not isinstance(entry.get("config", {}), dict):
            problems.append(f"{path}: entry {entry['name']!r}: 'config' must be a mapping; skipped")
        else:
            good.append(entry)
    return good, problems


async def apply_connectors_file(runtime: Runtime, path: Path) -> list[str]:
    """Create or update every good instance in the file; returns one problem line per skipped entry.

    Each problem is also logged, so an operator reading the server log at start sees them.
    """
    try:
        entries, problems = read_connectors_file(path)
    except ConnectorsFileError as exc:
        problems = [str(exc)]
        entries = []
    for entry in entries:
        name = str(entry["name"])
        try:
            config = _expand(entry.get("config", {}), f"{path}: {name}")
            async with runtime.sessions() as session, session.begin():
                await runtime.instances.add(
                    session,
                    name=name,
                    connector=str(entry["connector"]),
                    config=config,
                    enabled=bool(entry.get("enabled", True)),
                    replace=True,
                )
        except (ConnectorsFileError, InstanceError) as exc:
            problems.append(f"{path}: {name}: {exc}; skipped")
    for problem in problems:
        log.warning("connectors file: %s", problem)
    return problems
