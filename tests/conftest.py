"""Fixtures every test package shares: the database and Redis fixtures of ``dbfixtures``.

``tests/`` is on ``pythonpath`` (pyproject), so support modules import by their plain names.
Apps and workers started by tests leave the garbage collector alone (``LENDHUB_GC_THRESHOLD=0``):
a full collection and a freeze at every app start would slow the suite and leak between tests.
"""

import os

from dbfixtures import database_url, engine, pg_session_url, redis_url, session_factory

os.environ.setdefault("LENDHUB_GC_THRESHOLD", "0")

__all__ = ["database_url", "engine", "pg_session_url", "redis_url", "session_factory"]

# Sealed columns need a key ring before any test touches one; a Runtime replaces it with its own.
from core import pii

pii.install(pii.KeyRing([("test1", os.urandom(32))], os.urandom(32)))
