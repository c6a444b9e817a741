"""Fixtures for the dingtalk tests (helpers live in dingtalk_helpers so both vendor folders can run together)."""

from dingtalk_helpers import dingtalk, simulator

__all__ = ["dingtalk", "simulator"]
