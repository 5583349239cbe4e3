"""Broken coordinators for the gaps generated mutants found in KC-RT-007: each passed the
check before it was sharpened.

Like :mod:`kora_conformance.mutants.runtimes_mut`, each factory returns a
:class:`~kora_conformance.ReferenceAdapter` over a subclass of the reference runtime whose
``coordinator_class`` reproduces one bug a fork could ship, using only the public names of
:mod:`reference_runtime`. Certify one with::

    pytest --kora-conformance --kora-runtime kora_conformance.mutants.runtimes_lifecycle:NAME
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Iterable
from typing import Any

from kora_conformance.adapter import ReferenceAdapter, RuntimeAdapter
from reference_runtime import BackgroundDaemonEntry, Coordinator, ListenerRegistry, Runtime

__all__ = [
    "daemons_only_coordinator",
    "no_listener_side_tasks",
    "periodic_exit_swallowed",
    "plugin_chooses_exit_status",
]


# --- KC-RT-007 ----------------------------------------------------------------------------------


class DaemonsOnlyCoordinator(Coordinator):
    """Drives the daemon entries only, as a Hermes-side consumer does: listeners that have no
    entry in the background daemon registry are never started (nor shut down)."""

    def __init__(
        self,
        daemons: Iterable[BackgroundDaemonEntry] = (),
        listeners: ListenerRegistry | None = None,
        **options: Any,
    ) -> None:
        super().__init__(daemons, None, **options)


class NoListenerTasksCoordinator(Coordinator):
    """Knows the listener factories but not the listener-side scheduler: a multi-task
    listener's other tasks never run."""

    def __init__(
        self,
        daemons: Iterable[BackgroundDaemonEntry] = (),
        listeners: ListenerRegistry | None = None,
        **options: Any,
    ) -> None:
        factories_only = None
        if listeners is not None:
            factories_only = ListenerRegistry()
            for name in listeners.names():
                factory = listeners.factory(name)
                if factory is not None:
                    factories_only.register(name, factory)
        super().__init__(daemons, factories_only, **options)


class NoListenerTasksRuntime(Runtime):
    """Its coordinator drops the listener side's periodic tasks."""

    coordinator_class = NoListenerTasksCoordinator


def no_listener_side_tasks() -> RuntimeAdapter:
    """KC-RT-007: a multi-task listener's listener-side task never fires."""
    return ReferenceAdapter(NoListenerTasksRuntime, name="no_listener_side_tasks")


class DaemonsOnlyRuntime(Runtime):
    """Its coordinator ignores the listener registry."""

    coordinator_class = DaemonsOnlyCoordinator


def daemons_only_coordinator() -> RuntimeAdapter:
    """KC-RT-007: the coordinator never starts a listener that has no daemon entry."""
    return ReferenceAdapter(DaemonsOnlyRuntime, name="daemons_only_coordinator")


def _swallowing(callback: Callable[[], Any]) -> Callable[[], Any]:
    def fire() -> Any:
        try:
            return callback()
        except SystemExit as exc:  # the fork's driver: every failure is one bad fire
            msg = f"periodic task exited ({exc.code})"
            raise RuntimeError(msg) from exc

    return fire


class PeriodicExitSwallowedCoordinator(Coordinator):
    """Treats a periodic task's ``SystemExit`` as one failed fire: the schedule goes on."""

    def __init__(
        self,
        daemons: Iterable[BackgroundDaemonEntry] = (),
        listeners: ListenerRegistry | None = None,
        **options: Any,
    ) -> None:
        shared = set(listeners.names()) if listeners is not None else set()
        entries = [
            e
            if e.periodic_task is None or e.name in shared
            else dataclasses.replace(
                e,
                periodic_task=dataclasses.replace(
                    e.periodic_task, callback=_swallowing(e.periodic_task.callback)
                ),
            )
            for e in daemons
        ]
        super().__init__(entries, listeners, **options)


class PeriodicExitSwallowedRuntime(Runtime):
    """Its coordinator never stops for a periodic task's process-level exception."""

    coordinator_class = PeriodicExitSwallowedCoordinator


def periodic_exit_swallowed() -> RuntimeAdapter:
    """KC-RT-007: a SystemExit from a periodic task is logged as one failed fire, not fatal."""
    return ReferenceAdapter(PeriodicExitSwallowedRuntime, name="periodic_exit_swallowed")


class PluginExitStatusCoordinator(Coordinator):
    """Honours a plugin's ``sys.exit(n)``: the run's status becomes the plugin's code."""

    async def run(self, *, until: float | None = None) -> int:
        try:
            return await super().run(until=until)
        except SystemExit as exc:
            return exc.code if isinstance(exc.code, int) else 1


class PluginExitStatusRuntime(Runtime):
    """Its coordinator lets plugin code choose the exit status."""

    coordinator_class = PluginExitStatusCoordinator


def plugin_chooses_exit_status() -> RuntimeAdapter:
    """KC-RT-007: a daemon's SystemExit(n) makes n the run's exit status."""
    return ReferenceAdapter(PluginExitStatusRuntime, name="plugin_chooses_exit_status")
