"""The pluggy marker vendors decorate their hook implementations with."""

import pluggy

__all__ = ["PROJECT_NAME", "hookimpl"]

PROJECT_NAME = "lendhub"

hookimpl = pluggy.HookimplMarker(PROJECT_NAME)
"""Marks a function as an implementation of a LendHub hook, e.g. ``@hookimpl def register_connectors``."""
