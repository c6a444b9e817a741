"""The plugin report behind ``lendhub plugins`` and ``GET /api/plugins``.

One function turns the host's records into API models, so the CLI and the HTTP API can never
disagree about what is loaded.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from plugins.manager import PluginHost, PluginRecord
from schemas.api.plugins import ConnectorSummary, InstanceSummary, PluginInfo

__all__ = ["plugin_report"]


def _connector_summaries(
    host: PluginHost, record: PluginRecord, instances: Mapping[str, Sequence[InstanceSummary]]
) -> list[ConnectorSummary]:
    summaries = []
    for slug in record.connectors:
        info = host.connectors[slug].obj.info
        summaries.append(
            ConnectorSummary(
                slug=info.slug,
                name=info.name,
                capability=str(info.capability),
                vendor=info.vendor,
                vendor_api_version=info.vendor_api_version,
                support_level=str(info.support_level),
                instances=list(instances.get(slug, ())),
            )
        )
    return summaries


def plugin_report(
    host: PluginHost, instances: Mapping[str, Sequence[InstanceSummary]] | None = None
) -> list[PluginInfo]:
    """Every plugin the host tried, built-ins included, in loading order.

    ``instances`` (connector slug → its configured instances with breaker state) is added to each
    connector when the caller could read the database.

    Quarantined plugins are listed with their reason and the hooks they implement, but no
    connectors: what they registered was rolled back.
    """
    return [
        PluginInfo(
            name=record.name,
            distribution=record.distribution,
            version=record.version,
            builtin=record.builtin,
            status=record.status,
            reason=record.reason,
            hook_api=record.hook_api,
            notes=list(record.notes),
            hooks=list(record.hooks),
            connectors=_connector_summaries(host, record, instances or {}),
            webhook_sources=list(record.webhook_sources),
            commands=list(record.commands),
        )
        for record in host.plugins.values()
    ]
