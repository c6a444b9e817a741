"""GC tuning for serving: freezes start-up objects and raises only the young threshold."""

from __future__ import annotations

import gc
from collections.abc import Iterator

import pytest

from hub.gc_tuning import tune_gc_for_serving


@pytest.fixture
def restored_gc() -> Iterator[None]:
    before = gc.get_threshold()
    yield
    gc.unfreeze()
    gc.set_threshold(*before)


def test_tuning_freezes_and_raises_the_young_threshold(restored_gc: None) -> None:
    _, older, oldest = gc.get_threshold()
    tune_gc_for_serving(12_345)
    assert gc.get_threshold() == (12_345, older, oldest)
    assert gc.get_freeze_count() > 0


def test_zero_leaves_the_collector_alone(restored_gc: None) -> None:
    gc.unfreeze()
    before = gc.get_threshold()
    tune_gc_for_serving(0)
    assert gc.get_threshold() == before
    assert gc.get_freeze_count() == 0


def test_settings_default_tunes_and_zero_is_accepted() -> None:
    from hub.settings import Settings

    assert Settings(gc_threshold=0).gc_threshold == 0
    assert Settings.model_fields["gc_threshold"].default == 10_000
    with pytest.raises(ValueError):
        Settings(gc_threshold=-1)
