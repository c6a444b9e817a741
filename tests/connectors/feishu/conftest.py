"""Fixtures for the feishu tests (helpers live in feishu_helpers so both vendor folders can run together)."""

from feishu_helpers import feishu, simulator

__all__ = ["feishu", "simulator"]
