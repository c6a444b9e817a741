"""Build the plugin host: built-ins and installed plugins through one door, safely.

``make_plugin_manager()`` is a factory; there is no module-global manager, so each test and
each process builds its own. Every plugin, built-in or third-party, goes through
``PluginHost.add_plugin``, which:

1. checks the plugin's declared hook-API version (``core.hookspecs`` explains the rule);
2. registers it with pluggy and rejects hooks nobody specified (a typo'd hook name);
3. calls *its own* registration hooks with a ``register`` callback that validates each object
   into a staging area, so a failure is attributed to the plugin that caused it; a connector
   slug reserved for a built-in, or claimed by another plugin too, is refused (``plugins.claims``);
4. commits the staging area only when all of that succeeded.

Any failure quarantines the plugin: its registrations are dropped, it is unregistered from
pluggy so its event and decision hooks never run, and the reason is kept for
``lendhub plugins``. A slug clash also quarantines the plugins that claimed the slug earlier,
withdrawing what they had registered. The host still starts. With ``strict=True`` the first
failure raises ``PluginLoadError`` instead, for operators who prefer a refusal to a degraded start.
"""

from __future__ import annotations

import difflib
import importlib
import importlib.metadata as md
import logging
from collections.abc import Sequence
from typing import Any

import click
import pluggy
from fastapi import APIRouter

from core import hookspecs
from core.flows.extensions import FlowExtensions
from core.integrations.base import Capability, Connector
from plugins.claims import SlugClaims
from plugins.discovery import ENTRY_POINT_GROUP, SELF_DISTRIBUTION, installed_distributions
from plugins.records import PluginLoadError, PluginRecord, Registered, RegistrationError
from plugins.staging import Staging
from plugins.tracing import install_tracing
from plugins.validation import hook_api_problem

__all__ = [
    "DEFAULT_PLUGINS",
    "ENTRY_POINT_GROUP",
    "PluginHost",
    "PluginLoadError",
    "PluginRecord",
    "Registered",
    "RegistrationError",
    "make_plugin_manager",
]

log = logging.getLogger("lendhub.plugins")

DEFAULT_PLUGINS: tuple[str, ...] = (
    "plugins.defaults",
    "plugins.webhook_sources.plugin",
    "connectors.pboc.plugin",
    "connectors.baihang.plugin",
    "connectors.tianyancha.plugin",
    "connectors.qichacha.plugin",
    "connectors.esign.plugin",
    "connectors.feishu.plugin",
    "connectors.dingtalk.plugin",
    "connectors.kingdee.plugin",
    "connectors.http_scorer.plugin",
    "connectors.scorecard.plugin",
)
"""Built-in plugins as dotted module names; connectors join as ``connectors.<vendor>.plugin``."""


class PluginHost:
    """The pluggy manager plus everything plugins registered, attributed to their plugin.

    Attributes:
        pm: the pluggy manager; only loaded plugins are registered in it.
        plugins: one record per plugin tried, loaded or quarantined, in loading order.
        connectors: connector classes by slug.
        webhook_sources: webhook source classes by name.
        commands: click commands by name.
        routers: FastAPI routers, in registration order.
        permissions: descriptions of plugin-registered permission codes, by code.
        flow_extensions: conditions and actions plugins registered for approval flows.
        notes: host-level remarks, e.g. an allow-listed distribution that is not installed.
    """

    def __init__(self, pm: pluggy.PluginManager, *, strict: bool = False) -> None:
        self.pm = pm
        self.strict = strict
        self.quiet = False  # True while a strict host collects refusals to report them together
        self.plugins: dict[str, PluginRecord] = {}
        self.connectors: dict[str, Registered[type[Connector]]] = {}
        self.webhook_sources: dict[str, Registered[type[Any]]] = {}
        self.commands: dict[str, Registered[click.Command]] = {}
        self.routers: list[Registered[APIRouter]] = []
        self.permissions: dict[str, Registered[str]] = {}
        self.flow_extensions = FlowExtensions()
        self.notes: list[str] = []
        self.claims = SlugClaims()

    def connector_class(self, slug: str) -> type[Connector]:
        """The connector class registered under ``slug``; ``KeyError`` naming the known ones."""
        try:
            return self.connectors[slug].obj
        except KeyError:
            raise KeyError(f"no connector {slug!r}; registered: {sorted(self.connectors)}") from None

    def connectors_for(self, capability: Capability) -> list[type[Connector]]:
        """Every registered connector class implementing ``capability``, by slug."""
        return [
            entry.obj
            for _, entry in sorted(self.connectors.items())
            if entry.obj.info.capability == capability
        ]

    def select_connector_instance(
        self, capability: Capability, product: str, instances: list[str]
    ) -> str | None:
        """Ask the ``select_connector_instance`` decision hook; ``None`` when nobody chooses."""
        choice: str | None = self.pm.hook.select_connector_instance(
            capability=capability, product=product, instances=list(instances)
        )
        return choice

    @property
    def quarantined(self) -> list[PluginRecord]:
        """Records of the plugins refused at start-up."""
        return [record for record in self.plugins.values() if record.status == "quarantined"]

    def add_plugin(
        self,
        name: str,
        plugin: object,
        *,
        distribution: str | None = None,
        version: str | None = None,
        builtin: bool = False,
    ) -> PluginRecord:
        """Register one plugin object through the single door; quarantine it on any failure."""
        record = self._new_record(name, distribution, version, builtin)
        record.plugin = plugin
        declared = getattr(plugin, hookspecs.HOOK_API_ATTRIBUTE, None)
        record.hook_api = None if declared is None else str(declared)
        if declared is None:
            record.notes.append(f"declares no {hookspecs.HOOK_API_ATTRIBUTE}; assumed compatible")
        elif problem := hook_api_problem(declared):
            return self._quarantine(record, problem)
        try:
            self.pm.register(plugin, name=record.name)
        except Exception as exc:
            first_line = str(exc).split("\n", 1)[0]  # pluggy appends its whole registry
            return self._quarantine(record, f"could not be registered: {type(exc).__name__}: {first_line}")
        callers = self.pm.get_hookcallers(plugin) or []
        record.hooks = sorted(caller.name for caller in callers)
        unknown = sorted(
            caller.name
            for caller in callers
            if not caller.has_spec()
            and any(impl.plugin is plugin and not impl.optionalhook for impl in caller.get_hookimpls())
        )
        if unknown:
            return self._quarantine(record, _unknown_hooks_reason(unknown), registered=True)
        staging = Staging(self, record)
        callbacks = {
            "register_connectors": staging.register_connector,
            "register_webhook_sources": staging.register_webhook_source,
            "register_commands": staging.register_command,
            "register_routes": staging.register_router,
            "register_permissions": staging.register_permission,
            "register_flow_extensions": staging.register_flow_extension,
        }
        others = [other for other in self.pm.get_plugins() if other is not plugin]
        for hook_name in hookspecs.REGISTRATION_HOOKS:
            if hook_name not in record.hooks:
                continue
            try:
                self.pm.subset_hook_caller(hook_name, remove_plugins=others)(register=callbacks[hook_name])
            except Exception as exc:
                if not staging.errors:  # a refused register() is reported as the refusal itself
                    reason = f"{hook_name} raised {type(exc).__name__}: {exc}"
                    return self._quarantine(record, reason, registered=True)
            if staging.contested is not None:
                self._quarantine_rivals(record, *staging.contested)
            if staging.errors:
                return self._quarantine(record, f"{hook_name}: {staging.errors[0]}", registered=True)
        self._commit(record, staging)
        log.debug("plugin %s loaded (hooks: %s)", name, ", ".join(record.hooks) or "none")
        return record

    def add_import_failure(
        self, name: str, exc: BaseException, *, distribution: str | None = None, version: str | None = None
    ) -> PluginRecord:
        """Record a plugin whose module could not even be imported."""
        record = self._new_record(name, distribution, version, builtin=distribution == SELF_DISTRIBUTION)
        return self._quarantine(record, f"failed to import: {type(exc).__name__}: {exc}")

    def _new_record(
        self, name: str, distribution: str | None, version: str | None, builtin: bool
    ) -> PluginRecord:
        key, n = name, 1
        while key in self.plugins:  # two distributions may reuse an entry-point name
            n += 1
            key = f"{name}#{n}"
        record = PluginRecord(name=key, distribution=distribution, version=version, builtin=builtin)
        self.plugins[key] = record
        return record

    def _commit(self, record: PluginRecord, staging: Staging) -> None:
        for slug, cls in staging.connectors.items():
            self.connectors[slug] = Registered(record.name, cls)
        for source_name, source in staging.webhook_sources.items():
            self.webhook_sources[source_name] = Registered(record.name, source)
        for command_name, command in staging.commands.items():
            self.commands[command_name] = Registered(record.name, command)
        self.routers += [Registered(record.name, router) for router in staging.routers]
        for code, description in staging.permissions.items():
            self.permissions[code] = Registered(record.name, description)
        for extension in staging.flow_extensions:
            self.flow_extensions.register(extension)
        record.connectors = list(staging.connectors)
        record.webhook_sources = list(staging.webhook_sources)
        record.commands = list(staging.commands)

    def claimed_by(self, plugins: list[str]) -> str:
        """``also claimed by plugin 'x' (dist 1.0); ...``: the reason a contested slug gives."""
        named = ", ".join(f"{name!r}" for name in plugins)
        origin = "; ".join(
            " ".join(filter(None, (self.plugins[name].distribution, self.plugins[name].version)))
            for name in plugins
        )
        who = f"plugin {named}" if len(plugins) == 1 else f"plugins {named}"
        origin = f" ({origin})" if origin else ""
        return f"also claimed by {who}{origin}; a contested slug goes to neither plugin"

    def _quarantine_rivals(self, claimant: PluginRecord, slug: str, rivals: list[str]) -> None:
        """The slug clash: quarantine the plugins that claimed ``slug`` before ``claimant`` did.

        ``claimant`` itself is quarantined by the caller, with the refusal its ``register`` got.
        Rivals that loaded are withdrawn: their every registration, not just the contested slug,
        since a plugin is trusted or not as a whole.
        """
        # Not in the audit log: plugins load before any database is open. The quarantine is in
        # the process log, `lendhub plugins`, /api/plugins and /readyz (degraded) instead.
        for name in rivals:
            rival = self.plugins[name]
            if rival.status == "quarantined":
                continue
            for registry in (self.connectors, self.webhook_sources, self.commands, self.permissions):
                for key in [key for key, entry in registry.items() if entry.plugin == name]:
                    del registry[key]
            self.routers = [entry for entry in self.routers if entry.plugin != name]
            rival.connectors, rival.webhook_sources, rival.commands = [], [], []
            reason = f"connector slug {slug!r} is {self.claimed_by([claimant.name])}"
            self._quarantine(rival, reason, registered=True, strict=False)

    def _quarantine(
        self, record: PluginRecord, reason: str, *, registered: bool = False, strict: bool | None = None
    ) -> PluginRecord:
        record.status, record.reason = "quarantined", reason
        if registered and record.plugin is not None and self.pm.is_registered(record.plugin):
            self.pm.unregister(record.plugin)  # its event and decision hooks must never run
        if not self.quiet:
            warn_once(f"plugin {record.name} quarantined: {reason}")
        if self.strict if strict is None else strict:
            raise PluginLoadError(record.name, reason)
        return record


def _unknown_hooks_reason(unknown: list[str]) -> str:
    known = [name for name in dir(hookspecs) if hasattr(getattr(hookspecs, name), "lendhub_spec")]
    parts = []
    for name in unknown:
        close = difflib.get_close_matches(name, known, n=1)
        parts.append(f"{name!r}" + (f" (did you mean {close[0]!r}?)" if close else ""))
    return "implements unknown hook " + ", ".join(parts)


_warned: set[str] = set()


def warn_once(message: str) -> None:
    """Log a plugin-loading warning once per process.

    A CLI command builds the plugin host more than once (for plugin commands, for the worker's
    handlers, for its own runtime); each build finds the same problems, and an operator should
    read each of them once.
    """
    if message not in _warned:
        _warned.add(message)
        log.warning("%s", message)


def make_plugin_manager(
    *,
    load_plugins: list[str] | None = None,
    load_entrypoints: bool = True,
    builtins: Sequence[str] = DEFAULT_PLUGINS,
    trace: bool = False,
    strict: bool = False,
) -> PluginHost:
    """Build a new plugin host with the hook specs, the built-ins and the installed plugins.

    Built-ins load first; their connector slugs are reserved for them, and a slug two plugins
    claim goes to neither (``plugins.claims``), so no loading order hands a squatter a slug.
    Third-party distributions load in name order, so reports list them the same way each time.

    Args:
        load_plugins: third-party distributions whose ``lendhub`` entry points load; ``[]`` loads
            none and ``None`` all installed (``LENDHUB_LOAD_PLUGINS``). The built-ins always load;
            naming ``lendhub`` itself is allowed and changes nothing.
        load_entrypoints: ``False`` skips entry points entirely (tests, tools).
        builtins: dotted module names registered as built-in plugins.
        trace: log every hook call with its arguments, secrets masked (``LENDHUB_TRACE_PLUGINS``).
        strict: once every plugin was tried, raise ``PluginLoadError`` naming each quarantined
            one (``LENDHUB_STRICT_PLUGINS``).

    Returns:
        The host, with quarantined plugins recorded but not registered.

    Raises:
        PluginLoadError: only with ``strict=True``.
    """
    pm = pluggy.PluginManager(hookspecs.PROJECT_NAME)
    pm.add_hookspecs(hookspecs)
    if trace:
        install_tracing(pm)
    host = PluginHost(pm)  # strict or not, every plugin is tried: strict mode names all refused ones
    host.quiet = strict  # ... in one error, not in a warning each as well
    try:
        own_version: str | None = md.version(SELF_DISTRIBUTION)
    except md.PackageNotFoundError:
        own_version = None
    for dotted in builtins:
        try:
            module = importlib.import_module(dotted)
        except Exception as exc:
            host.add_import_failure(dotted, exc, distribution=SELF_DISTRIBUTION, version=own_version)
            continue
        host.add_plugin(dotted, module, distribution=SELF_DISTRIBUTION, version=own_version, builtin=True)
    if not load_entrypoints:
        _refuse_if_strict(host, strict)
        return host
    dists, missing = installed_distributions(load_plugins)
    for name in missing:
        host.notes.append(f"distribution {name!r} named in LENDHUB_LOAD_PLUGINS is not installed")
        warn_once(host.notes[-1])
    for dist in dists:
        dist_name, version = dist.metadata["Name"], dist.version
        for ep in sorted(dist.entry_points, key=lambda ep: ep.name):
            if ep.group != ENTRY_POINT_GROUP:
                continue
            try:
                plugin = ep.load()
            except Exception as exc:
                host.add_import_failure(ep.name, exc, distribution=dist_name, version=version)
                continue
            host.add_plugin(ep.name, plugin, distribution=dist_name, version=version)
    _refuse_if_strict(host, strict)
    return host


def _refuse_if_strict(host: PluginHost, strict: bool) -> None:
    """In strict mode, refuse to start naming every quarantined plugin and its reason, briefly.

    The host stays strict afterwards: a plugin added to it later is refused at once.
    """
    host.strict, host.quiet = strict, False
    refused = [(record.name, (record.reason or "").splitlines()[0][:300]) for record in host.quarantined]
    if strict and refused:
        first, *others = refused
        raise PluginLoadError(*first, others=others)
