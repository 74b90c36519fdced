"""A run collects garbage less often, and leaves the process's collector as it found it."""

from __future__ import annotations

import gc
from collections.abc import Iterator

import pytest

from airflow_provider_hubspot_assoc.gc_scope import YOUNG_THRESHOLD, fewer_collections


@pytest.fixture
def collector() -> Iterator[None]:
    before = gc.get_threshold()
    yield
    gc.set_threshold(*before)
    gc.unfreeze()


@pytest.mark.usefixtures("collector")
def test_within_a_run_older_objects_are_frozen_and_the_young_collected_less_often() -> None:
    gc.set_threshold(700, 10, 10)
    with fewer_collections():
        assert gc.get_threshold() == (YOUNG_THRESHOLD, 10, 10)
        assert gc.get_freeze_count() > 0
    assert gc.get_threshold() == (700, 10, 10) and gc.get_freeze_count() == 0


@pytest.mark.usefixtures("collector")
def test_the_collector_is_put_back_when_the_run_fails() -> None:
    gc.set_threshold(50_000, 20, 30)  # a process that collects less often already keeps its own
    seen: list[tuple[int, int, int]] = []

    def failing_run() -> None:
        with fewer_collections():
            seen.append(gc.get_threshold())
            raise RuntimeError("the run failed")

    with pytest.raises(RuntimeError):
        failing_run()
    assert seen == [(50_000, 20, 30)]
    assert gc.get_threshold() == (50_000, 20, 30) and gc.get_freeze_count() == 0


@pytest.mark.usefixtures("collector")
def test_a_collector_turned_off_stays_off() -> None:
    gc.set_threshold(0)
    with fewer_collections():
        assert gc.get_threshold()[0] == 0
    assert gc.get_threshold()[0] == 0
