"""The conformance kit every connector passes, built-in or third-party.

``ConnectorTestSuite`` is the base test class; :mod:`plugins.testing.quality` validates the
per-connector quality file; :func:`serve_app` serves a simulator over loopback HTTP for tests.
"""

from .quality import RULES, TIERS, validate_quality_file
from .server import ServedApp, free_port, serve_app
from .suite import CHECKS, ConnectorTestSuite, Harness

__all__ = [
    "CHECKS",
    "RULES",
    "TIERS",
    "ConnectorTestSuite",
    "Harness",
    "ServedApp",
    "free_port",
    "serve_app",
    "validate_quality_file",
]
