"""Say so when the database is shared by many processes but breakers and rate limits are not.

On PostgreSQL, several API processes and workers commonly share one database. Without
``LENDHUB_REDIS_URL`` each keeps its own in-memory breakers, rate budgets, locks and caches:
N processes spend N times a vendor's rate limit and each must see a vendor fail before its
breaker opens. Nothing breaks loudly, so the start-up log says it once. SQLite is left alone: its
file is the embedded default, one host, usually one process.
"""

from __future__ import annotations

from sqlalchemy.engine import make_url

from hub.settings import Settings

__all__ = ["per_process_state_warning"]


def per_process_state_warning(settings: Settings) -> str | None:
    """The warning to log at start, or ``None`` when state is shared or the database is not."""
    if settings.redis_url or make_url(settings.database_url).get_backend_name() != "postgresql":
        return None
    return (
        "LENDHUB_DATABASE_URL is PostgreSQL, which several processes may share, but "
        "LENDHUB_REDIS_URL is unset: connector breakers, rate limits, locks and caches are kept "
        "per process (each process spends a vendor's whole rate limit); set LENDHUB_REDIS_URL "
        "when running more than one process"
    )
