"""Fixtures every test package shares: the database and Redis fixtures of ``dbfixtures``.

``tests/`` is on ``pythonpath`` (pyproject), so support modules import by their plain names.
"""

from dbfixtures import database_url, engine, pg_session_url, redis_url, session_factory

__all__ = ["database_url", "engine", "pg_session_url", "redis_url", "session_factory"]
