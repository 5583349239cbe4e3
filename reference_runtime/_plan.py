"""A run's plan: which daemons a coordinator starts, in what order, and which tasks it drives.

Both are pure functions of the daemon entries and the listener side, so a harness can read the
plan a run will follow without running it.
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from typing import Literal

from ._daemons import BackgroundDaemonEntry, PeriodicTaskSpec
from ._listeners import ListenerRegistry

__all__ = ["PlannedTask", "periodic_plan", "start_plan"]

#: ``(owner, spec, side)``: the owner is the entry's or listener's name (``""`` for a
#: listener-side task of no listener), the side ``"daemon"`` for an entry's task and
#: ``"listener"`` for a listener-side one.
PlannedTask = tuple[str, PeriodicTaskSpec, Literal["daemon", "listener"]]


def start_plan(
    entries: Sequence[BackgroundDaemonEntry], listeners: ListenerRegistry | None
) -> list[tuple[str, BackgroundDaemonEntry | None]]:
    """What phase 1 starts, in order: every entry in registration order, then each listener
    that has no entry of its name (paired with ``None``: its factory is resolved at start)."""
    entry_names = {entry.name for entry in entries}
    plan: list[tuple[str, BackgroundDaemonEntry | None]] = [
        (entry.name, entry) for entry in entries
    ]
    if listeners is not None:
        plan += [(name, None) for name in listeners.names() if name not in entry_names]
    return plan


def periodic_plan(
    entries: Sequence[BackgroundDaemonEntry],
    listeners: ListenerRegistry | None,
    started: Collection[str] | None = None,
) -> list[PlannedTask]:
    """The periodic tasks that get a driver once the startups are done, in start order.

    The entries' tasks first, then the listener side's tasks, except a task whose callback an
    earlier one already has (a task known to both sides runs once) and a task whose listener
    did not start.

    :param started: the names of the daemons and listeners whose startup succeeded; all of them
        when ``None``.
    """
    tasks: list[PlannedTask] = [
        (entry.name, entry.periodic_task, "daemon")
        for entry in entries
        if entry.periodic_task is not None and (started is None or entry.name in started)
    ]
    if listeners is not None:
        for listener_task in listeners.tasks():
            spec, owner = listener_task.spec, listener_task.listener
            if owner and started is not None and owner not in started:
                continue
            # The same callback on an entry is the same task: the fork registered it on both
            # sides, and running both would fire it twice per interval.
            if any(spec.callback == known.callback for _, known, _ in tasks):
                continue
            tasks.append((owner, spec, "listener"))
    return tasks
