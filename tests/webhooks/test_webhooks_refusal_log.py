"""Refused webhooks log one line per kind per minute, not one per request."""

from __future__ import annotations

import logging

from hub.webhooks.refusal_log import RefusalLog


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_ten_thousand_forgeries_write_one_line_then_one_a_minute(caplog):
    clock = Clock()
    refusals = RefusalLog(logging.getLogger("t.refusals"), interval=60, clock=clock)
    with caplog.at_level(logging.WARNING, logger="t.refusals"):
        for _ in range(10_000):
            refusals.refused("stub", "partner", 401, "webhook-signature-invalid")
        assert len(caplog.records) == 1
        clock.now += 61
        refusals.refused("stub", "partner", 401, "webhook-signature-invalid")
    assert len(caplog.records) == 2
    assert "and 9999 more like it" in caplog.records[1].getMessage()


def test_each_kind_of_refusal_gets_its_own_first_line(caplog):
    refusals = RefusalLog(logging.getLogger("t.kinds"), interval=60, clock=Clock())
    with caplog.at_level(logging.WARNING, logger="t.kinds"):
        refusals.refused("stub", "partner", 401, "webhook-signature-invalid")
        refusals.refused("stub", "other", 401, "webhook-signature-invalid")
        refusals.refused("stub", "partner", 413, "webhook-body-too-large")
        refusals.refused("stub", "partner", 401, "webhook-signature-invalid")
    assert len(caplog.records) == 3
