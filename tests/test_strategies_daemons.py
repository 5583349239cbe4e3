"""The public daemon strategies generate valid entries and tasks, as their docstrings promise."""

from __future__ import annotations

import asyncio
import dataclasses
import inspect
import math
import re

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from kora_conformance import strategies
from kora_conformance.strategies import daemon_entries, daemon_names, periodic_tasks
from reference_runtime import (
    BackgroundDaemonEntry,
    BackgroundDaemonRegistry,
    Coordinator,
    PeriodicTaskSpec,
    VirtualClock,
    same_daemon,
)


def _call(fn: object, *args: object, **kwargs: object) -> None:
    assert callable(fn)
    result = fn(*args, **kwargs)
    if inspect.isawaitable(result):
        asyncio.run(_await(result))


async def _await(awaitable: object) -> None:
    await awaitable  # type: ignore[misc]


def test_the_daemon_strategies_are_exported() -> None:
    for name in ("daemon_entries", "daemon_names", "periodic_tasks"):
        assert name in strategies.__all__
    assert strategies.__all__ == sorted(strategies.__all__)


@given(daemon_names())
def test_daemon_names_are_valid(name: str) -> None:
    assert re.fullmatch(r"[A-Za-z0-9_.\-]{1,40}", name)
    BackgroundDaemonEntry(name, lambda coordinator=None: None, lambda: None)


@given(periodic_tasks())
def test_periodic_tasks_are_valid(task: PeriodicTaskSpec) -> None:
    assert isinstance(task, PeriodicTaskSpec)
    assert isinstance(task.interval_seconds, float)
    assert math.isfinite(task.interval_seconds)
    assert 0.001 <= task.interval_seconds <= 86_400
    assert task.name
    rebuilt = PeriodicTaskSpec(task.interval_seconds, task.callback, task.name)  # validates again
    assert rebuilt == task
    _call(task.callback)


@settings(max_examples=30)
@given(periodic_tasks(min_interval=5, max_interval=7.5))
def test_periodic_tasks_keep_to_the_bounds_asked_for(task: PeriodicTaskSpec) -> None:
    assert 5 <= task.interval_seconds <= 7.5


@pytest.mark.parametrize(("low", "high"), [(0, 1), (-1, 1), (2, 1), (1, math.inf)])
def test_periodic_tasks_refuse_impossible_bounds(low: float, high: float) -> None:
    with pytest.raises(ValueError, match="0 < min_interval <= max_interval"):
        periodic_tasks(min_interval=low, max_interval=high)


@given(daemon_entries())
def test_daemon_entries_are_valid_and_their_startups_take_all_three_forms(
    entry: BackgroundDaemonEntry,
) -> None:
    rebuilt = BackgroundDaemonEntry(
        **{f.name: getattr(entry, f.name) for f in dataclasses.fields(entry)}
    )
    assert same_daemon(entry, rebuilt)
    assert 0 < entry.shutdown_timeout <= 60
    coordinator = Coordinator([entry], clock=VirtualClock())
    _call(entry.startup, coordinator)
    _call(entry.startup, coordinator=coordinator)
    _call(entry.startup)
    _call(entry.shutdown)


@given(daemon_entries(name="fixed.name", plugin_name="mine", periodic=True))
def test_daemon_entries_use_what_they_are_given(entry: BackgroundDaemonEntry) -> None:
    assert (entry.name, entry.plugin_name) == ("fixed.name", "mine")
    assert entry.periodic_task is not None


@given(daemon_entries(periodic=False))
def test_daemon_entries_without_a_task_when_asked(entry: BackgroundDaemonEntry) -> None:
    assert entry.periodic_task is None


@settings(max_examples=25, deadline=None)
@given(st.lists(daemon_entries(), max_size=6, unique_by=lambda e: e.name))
def test_drawn_entries_register_and_run_in_virtual_time(
    entries: list[BackgroundDaemonEntry],
) -> None:
    registry = BackgroundDaemonRegistry()
    for entry in entries:
        registry.register(entry)
    assert registry.list_entries() == entries

    coordinator = Coordinator(registry.list_entries(), clock=VirtualClock(), record_fires=False)
    horizon = 10.0
    # Fires cost time; keep the run bounded whatever intervals were drawn.
    intervals = [e.periodic_task.interval_seconds for e in entries if e.periodic_task is not None]
    if intervals and sum(horizon / i for i in intervals) > 5_000:
        horizon = min(intervals) * 10

    assert asyncio.run(coordinator.run(until=horizon)) == 0
    for entry in entries:
        if entry.periodic_task is not None:
            interval = entry.periodic_task.interval_seconds
            fired = coordinator.fire_counts()[entry.periodic_task.name]
            assert fired >= math.floor(horizon / interval) - 1
