"""Fixtures for the hub tests: the shared database fixtures."""

import sys
from pathlib import Path

_TESTS = str(Path(__file__).resolve().parent.parent)
if _TESTS not in sys.path:
    sys.path.insert(0, _TESTS)

from dbfixtures import (  # noqa: E402
    database_url,
    engine,
    pg_session_url,
    redis_url,
    session_factory,
)

__all__ = ["database_url", "engine", "pg_session_url", "redis_url", "session_factory"]
