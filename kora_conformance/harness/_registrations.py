"""What a plugin registered in a runtime's two daemon registries, and registering it again.

The daemon side (``runtime.daemons``) holds background daemon entries; the listener side
(``runtime.listeners``) holds listener factories and their periodic tasks. A dual-registered
listener is on both. The daemon checks load the plugin alone into a fresh reference runtime and
read both sides back from it.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from typing import Any

from kora_conformance.model._check import CheckContext
from reference_runtime import (
    BackgroundDaemonEntry,
    DaemonSpecError,
    ListenerRegistry,
    LoadedPlugin,
    PeriodicTaskSpec,
    ResolvedListener,
    Runtime,
    background_daemon_registry,
    describe_callable,
    listener_registry,
)

__all__ = [
    "Lifecycle",
    "Names",
    "Registered",
    "default_names",
    "describe_names",
    "lifecycles",
    "names_in",
    "register_again",
    "registered_alone",
    "shape_changes",
    "shapes_in",
]

#: Daemon names, listener names and listener-side task names, in registration order.
Names = tuple[list[str], list[str], list[str]]


@dataclasses.dataclass(frozen=True)
class Registered:
    """The plugin loaded alone into a fresh runtime, and both sides of what it registered."""

    runtime: Runtime
    plugin: LoadedPlugin

    @property
    def entries(self) -> list[BackgroundDaemonEntry]:
        """The daemon side's entries, in registration order."""
        return self.runtime.daemons.list_entries()

    @property
    def listeners(self) -> ListenerRegistry:
        """The listener side."""
        return self.runtime.listeners

    def listener_tasks_of(self, listener: str) -> list[PeriodicTaskSpec]:
        """The listener-side tasks of ``listener``, in registration order."""
        return [t.spec for t in self.listeners.tasks() if t.listener == listener]

    @property
    def dual(self) -> list[str]:
        """Names on both sides, in daemon registration order."""
        listeners = set(self.listeners.names())
        return [entry.name for entry in self.entries if entry.name in listeners]


def registered_alone(ctx: CheckContext) -> Registered:
    """Load the target alone into a fresh runtime; fail the check if it does not load."""
    runtime, _, plugin = ctx.load()
    return Registered(runtime, plugin)


@dataclasses.dataclass(frozen=True)
class Lifecycle:
    """One startup/shutdown pair to call, from either side."""

    label: str
    startup: Callable[..., Any]
    shutdown: Callable[..., Any]
    shutdown_timeout: float


def lifecycles(registered: Registered) -> list[Lifecycle]:
    """Every distinct startup/shutdown pair: the entries', then the listeners' not already seen.

    A listener whose factory fails is left out (KC-DM-001 reports it).
    """
    found = [
        Lifecycle(f"daemon {e.name!r}", e.startup, e.shutdown, e.shutdown_timeout)
        for e in registered.entries
    ]
    for name in registered.listeners.names():
        try:
            resolved: ResolvedListener = registered.listeners.resolve(name)
        except DaemonSpecError:
            continue
        if any(resolved.startup == known.startup for known in found):
            continue
        found.append(
            Lifecycle(
                f"listener {name!r}", resolved.startup, resolved.shutdown, resolved.shutdown_timeout
            )
        )
    return found


def names_in(runtime: Runtime) -> Names:
    """Daemon names, listener names and listener-side task names, in registration order."""
    tasks = [task.spec.name for task in runtime.listeners.tasks()]
    return [e.name for e in runtime.daemons.list_entries()], runtime.listeners.names(), tasks


#: One registration's shape, by what it is: ``("daemon", name)``, ``("listener", name)`` or
#: ``("task", name)`` → its fields that a consumer relies on.
Shapes = dict[tuple[str, str], dict[str, object]]


def _callable_shape(fn: object) -> str:
    # By name: a reload makes new function objects, which must do the same work.
    return describe_callable(fn)


def shapes_in(runtime: Runtime) -> Shapes:
    """Every registration of ``runtime``'s two sides with the fields a consumer relies on:
    intervals, timeouts, the fatal flag, task names and which callables (by qualified name)."""
    shapes: Shapes = {}
    for entry in runtime.daemons.list_entries():
        task = entry.periodic_task
        shapes[("daemon", entry.name)] = {
            "startup": _callable_shape(entry.startup),
            "shutdown": _callable_shape(entry.shutdown),
            "shutdown_timeout": entry.shutdown_timeout,
            "fatal_on_startup_failure": entry.fatal_on_startup_failure,
            "periodic_task": None
            if task is None
            else (task.name, task.interval_seconds, _callable_shape(task.callback)),
        }
    for name in runtime.listeners.names():
        try:
            resolved = runtime.listeners.resolve(name)
        except DaemonSpecError as exc:
            shapes[("listener", name)] = {"factory": f"fails: {exc}"}
            continue
        shapes[("listener", name)] = {
            "startup": _callable_shape(resolved.startup),
            "shutdown": _callable_shape(resolved.shutdown),
            "shutdown_timeout": resolved.shutdown_timeout,
        }
    for listener_task in runtime.listeners.tasks():
        spec = listener_task.spec
        shapes[("task", spec.name)] = {
            "listener": listener_task.listener,
            "interval_seconds": spec.interval_seconds,
            "callback": _callable_shape(spec.callback),
        }
    return shapes


def shape_changes(before: Shapes, after: Shapes) -> list[str]:
    """How ``after`` differs from ``before``, one line per changed field, for a report."""
    changes = []
    for key in before.keys() & after.keys():
        kind, name = key
        for field in before[key].keys() | after[key].keys():
            old, new = before[key].get(field), after[key].get(field)
            if old != new:
                changes.append(f"{kind} {name!r}: {field} was {old!r}, now {new!r}")
    return sorted(changes)


def default_names() -> tuple[list[str], list[str]]:
    """What the process defaults hold (fork-style code registers there at import)."""
    return [
        e.name for e in background_daemon_registry().list_entries()
    ], listener_registry().names()


def describe_names(found: Names) -> str:
    """``found``, for a check's report."""
    daemons, listeners, tasks = found
    return (
        f"daemons {daemons}, listeners {listeners}, listener-side tasks {tasks}"
        if daemons or listeners or tasks
        else "nothing"
    )


def register_again(plugin: LoadedPlugin, runtime: Runtime) -> str | None:
    """Run the (reloaded) module's ``register`` into ``runtime`` through a new context, as a
    re-import registering into the live registries would; the error, if any."""
    register = getattr(plugin.module, "register", None) if plugin.module is not None else None
    if not callable(register):
        return None
    try:
        runtime.register_plugin(plugin.manifest, register, plugin.module)
    except Exception as exc:  # noqa: BLE001 - the plugin's error is the finding
        return f"{type(exc).__name__}: {exc}"
    return None
