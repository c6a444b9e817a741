"""``lendhub flows validate|publish FILE``: check an approval flow file, then make it the live version.

A credit manager edits the flow as YAML (or JSON) in a text editor, so every error names the
path and the line to fix, in the operator's language. Both commands check against the conditions
and actions of the plugins the server would load, so a flow that passes here is not refused at
publication for naming a ``checks.<name>`` the hub does not have.

``publish`` saves the file as the flow's next version and publishes it in one transaction, as the
operator (audited as ``operator:<login>@<host>``): either both happen or neither.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import click

from core.access import Actor
from core.errors import Invalid
from core.flows import versions
from core.flows.extensions import FlowExtensions
from core.flows.source import MAX_SOURCE_BYTES, load_source, with_lines
from core.i18n import translate
from hub.runtime import Runtime
from hub.settings import SettingsError, load_settings
from plugins.manager import PluginLoadError, make_plugin_manager

from .common import cli_language, run_with_runtime
from .output import echo_json, json_option

__all__ = ["flows"]

_FORMATS = {".json": "json", ".yaml": "yaml", ".yml": "yaml"}


@click.group("flows")
def flows() -> None:
    """Approval flows (审批流程): check a flow file and publish it."""


def _read(file: Path) -> tuple[str, list[dict[str, Any]]]:
    """The file's text, or the refusal of a file too large to read."""
    try:
        with file.open("rb") as handle:
            data = handle.read(MAX_SOURCE_BYTES + 1)
            size = file.stat().st_size
    except OSError as exc:
        raise click.ClickException(f"cannot read {file}: {exc.strerror}") from None
    if len(data) > MAX_SOURCE_BYTES:
        params = {"max_kib": MAX_SOURCE_BYTES // 1024, "size_kib": -(-size // 1024)}
        return "", [{"field": "", "code": "flows.source_too_large", "params": params}]
    try:
        return data.decode("utf-8-sig"), []
    except UnicodeDecodeError as exc:
        raise click.ClickException(f"{file} is not UTF-8 text (byte {exc.start})") from None


def _checked(file: Path, extensions: FlowExtensions) -> tuple[Any, str, list[dict[str, Any]]]:
    """The document, its text and its errors (each with the line, where one is known)."""
    text, errors = _read(file)
    if errors:
        return None, text, errors
    try:
        document, lines = load_source(text, _FORMATS.get(file.suffix.lower()))
    except Invalid as exc:
        return None, text, exc.errors
    versions.install_extensions(extensions)
    return document, text, with_lines(versions.check(document), lines)


def _host_extensions() -> FlowExtensions:
    """The flow conditions and actions of the plugins ``lendhub serve`` would load."""
    try:
        settings = load_settings()
        host = make_plugin_manager(
            load_plugins=settings.plugin_allow_list,
            trace=settings.trace_plugins,
            strict=settings.strict_plugins,
        )
    except (SettingsError, PluginLoadError) as exc:
        raise click.ClickException(str(exc)) from None
    return host.flow_extensions


def _with_messages(errors: list[dict[str, Any]]) -> list[dict[str, Any]]:
    language = cli_language()
    return [
        {**error, "message": translate(error["code"], language, **error.get("params", {}))}
        for error in errors
    ]


def _report(file: Path, errors: list[dict[str, Any]], as_json: bool) -> None:
    """Print every error and exit with status 1."""
    # By line, as people fix a file from top to bottom (errors without one, about the whole file, first).
    shown = sorted(_with_messages(errors), key=lambda error: error["params"].get("line") or 0)
    if as_json:
        echo_json({"file": str(file), "valid": False, "errors": shown})
        raise click.exceptions.Exit(1)
    for error in shown:
        where = error["field"] or "(document)"
        line = error["params"].get("line")
        click.echo(
            f"{where} (line {line}): {error['message']}"
            if line is not None
            else f"{where}: {error['message']}"
        )
    raise click.ClickException(f"{file}: {len(errors)} error{'s' if len(errors) != 1 else ''}")


@flows.command("validate")
@click.argument("file", type=click.Path(dir_okay=False, path_type=Path))
@json_option
def validate(file: Path, as_json: bool) -> None:
    """Check the flow in FILE (.yaml, .yml or .json); exit status 1 when it has errors."""
    document, _, errors = _checked(file, _host_extensions())
    if errors:
        _report(file, errors, as_json)
    summary = {"file": str(file), "valid": True, "key": document["key"], "stages": len(document["stages"])}
    if as_json:
        echo_json({**summary, "errors": []})
        return
    click.echo(f"{file}: flow {summary['key']} is valid ({summary['stages']} stages)")


@flows.command("publish")
@click.argument("file", type=click.Path(dir_okay=False, path_type=Path))
@json_option
def publish(file: Path, as_json: bool) -> None:
    """Save the flow in FILE as its next version and publish it for new applications."""
    actor = Actor.operator()

    async def work(runtime: Runtime) -> dict[str, Any] | list[dict[str, Any]]:
        document, text, errors = _checked(file, runtime.host.flow_extensions)
        if errors:
            return errors
        try:
            async with runtime.sessions() as session, session.begin():
                saved, created = await versions.save_draft(session, actor, document, source=text)
                published = await versions.publish(session, actor, saved.flow_key, saved.version)
        except Invalid as exc:
            if not exc.errors:
                raise
            return exc.errors
        return {
            "key": published.flow_key,
            "version": published.version,
            "status": published.status,
            "created": created,
        }

    result = run_with_runtime(work)
    if isinstance(result, list):
        _report(file, result, as_json)
        return
    if as_json:
        echo_json(result)
        return
    same = "" if result["created"] else " (the same document as the last version saved)"
    click.echo(f"published flow {result['key']} version {result['version']}{same}")
