"""Fixtures every test package shares: the database and Redis fixtures of ``dbfixtures``.

``tests/`` is on ``pythonpath`` (pyproject), so support modules import by their plain names.
Apps and workers started by tests leave the garbage collector alone (``LENDHUB_GC_THRESHOLD=0``):
a full collection and a freeze at every app start would slow the suite and leak between tests.
"""

import os

import pytest
from dbfixtures import database_url, engine, pg_session_url, redis_url, session_factory

os.environ.setdefault("LENDHUB_GC_THRESHOLD", "0")

__all__ = ["database_url", "engine", "pg_session_url", "redis_url", "session_factory"]


def pytest_configure(config: pytest.Config) -> None:
    """Install a key ring: sealed columns need one before any test touches them.

    A Runtime replaces it with its own. Built here, once per pytest run, rather than when this
    file is imported: mutation testing (``make mutation``) starts several runs in one process and
    must build the ring with the key-ring code under test each time.
    """
    from core import pii

    pii.install(pii.KeyRing([("test1", os.urandom(32))], os.urandom(32)))


# Passwords: argon2id as in production, but at the lowest cost — hashing at production cost (about
# 0.1–0.2 s a password) for every user and sign-in of every API test cost minutes of the suite.
# What is tested is that passwords are argon2 hashes and how sign-in behaves, not the cost.
from pwdlib import PasswordHash  # noqa: E402
from pwdlib.hashers.argon2 import Argon2Hasher  # noqa: E402

from core.access import passwords  # noqa: E402

passwords._hasher = PasswordHash((Argon2Hasher(time_cost=1, memory_cost=1024, parallelism=1),))
