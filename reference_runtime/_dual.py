"""Dual registration: one listener on both sides, the fork's listener registry and the daemon
registry, sharing one instance.

A :class:`DualRegistration` is validated when built and touches no registry until
:meth:`DualRegistration.register` applies it, so a plugin context can stage it and apply it once
the plugin's ``register(ctx)`` succeeds. The daemon entry carries the one primary periodic task;
the listener side knows every task, and the coordinator runs a task known to both sides once.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable

from ._daemons import (
    DEFAULT_SHUTDOWN_TIMEOUT,
    BackgroundDaemonEntry,
    BackgroundDaemonRegistry,
    PeriodicTaskSpec,
    ShutdownCallable,
    StartupCallable,
    background_daemon_registry,
)
from ._errors import DaemonSpecError
from ._listeners import (
    DaemonListener,
    ListenerFactory,
    ListenerRegistry,
    ListenerTask,
    _listener_name,
    listener_registry,
)

__all__ = ["DualRegistration", "register_dual_listener"]


@dataclasses.dataclass(frozen=True)
class DualRegistration:
    """A listener's registration for both sides, validated but not yet applied.

    Building one touches no registry, so a plugin context can stage it and apply it with
    :meth:`register` once the plugin's ``register(ctx)`` succeeds.

    :param name: a Python identifier (the listener side's rule), also a valid daemon name.
    :param listener: ``SomeListener.instance()``; a second instance would split the state.
    :param periodic_task: the primary task: on the daemon entry and on the listener side.
    :param listener_side_tasks: further tasks of this listener, on the listener side only.
    :param shutdown_timeout: for both sides.
    :param fatal_on_startup_failure: the entry's flag.
    :param plugin_name: the registering plugin.
    :raises DaemonSpecError: a field broke its rule.
    """

    name: str
    listener: DaemonListener
    periodic_task: PeriodicTaskSpec | None = None
    listener_side_tasks: tuple[PeriodicTaskSpec, ...] = ()
    shutdown_timeout: float = DEFAULT_SHUTDOWN_TIMEOUT
    fatal_on_startup_failure: bool = False
    plugin_name: str = ""
    #: The daemon-side entry, derived from the fields above.
    entry: BackgroundDaemonEntry = dataclasses.field(init=False, repr=False)

    def __post_init__(self) -> None:
        _listener_name(self.name)
        listener: object = self.listener
        if not isinstance(listener, DaemonListener):
            msg = (
                f"listener {self.name!r}: listener must be a DaemonListener instance, got "
                f"{type(listener).__name__}; subclass DaemonListener and pass "
                "YourListener.instance()"
            )
            raise DaemonSpecError(msg, field="listener")
        cls = type(listener)
        if cls.instance() is not listener:
            msg = (
                f"listener {self.name!r}: pass {cls.__qualname__}.instance(), not a new "
                f"{cls.__qualname__}(): both sides must share the process-wide instance"
            )
            raise DaemonSpecError(msg, field="listener")
        extra = tuple(self.listener_side_tasks)
        for task in extra:
            checked: object = task
            if not isinstance(checked, PeriodicTaskSpec):
                msg = (
                    f"listener {self.name!r}: listener_side_tasks must hold PeriodicTaskSpec "
                    f"objects, got {type(checked).__name__}"
                )
                raise DaemonSpecError(msg, field="listener_side_tasks")
        object.__setattr__(self, "listener_side_tasks", extra)
        entry = BackgroundDaemonEntry(
            self.name,
            listener.startup,
            listener.shutdown,
            periodic_task=self.periodic_task,
            shutdown_timeout=self.shutdown_timeout,
            plugin_name=self.plugin_name,
            fatal_on_startup_failure=self.fatal_on_startup_failure,
        )
        object.__setattr__(self, "entry", entry)

    def factory(self) -> tuple[StartupCallable, ShutdownCallable, float]:
        """The listener-side factory: the shared instance's bound methods and the timeout."""
        return self.listener.startup, self.listener.shutdown, self.entry.shutdown_timeout

    def register(
        self,
        daemons: BackgroundDaemonRegistry | None = None,
        listeners: ListenerRegistry | None = None,
    ) -> BackgroundDaemonEntry:
        """Apply to both registries (the process defaults when not given).

        The daemon side goes first, so a name clash raises before the listener side changes.
        Registering the same listener again is a no-op on the daemon side and a replacement
        with equal values on the listener side.

        :returns: the entry now registered on the daemon side.
        :raises DuplicateDaemonError: a different daemon holds the name.
        """
        return self._apply(daemons, listeners)[0]

    def _apply(
        self,
        daemons: BackgroundDaemonRegistry | None = None,
        listeners: ListenerRegistry | None = None,
    ) -> tuple[
        BackgroundDaemonEntry, ListenerFactory | None, list[tuple[str, ListenerTask | None]]
    ]:
        """:meth:`register`, also returning what it replaced on the listener side (for a
        rollback): the previous factory, and each task name with the task it replaced."""
        daemons = background_daemon_registry() if daemons is None else daemons
        listeners = listener_registry() if listeners is None else listeners
        registered = daemons.register(self.entry)
        replaced = listeners.register(self.name, self.factory)
        tasks = [
            (task.name, listeners.register_task(task, listener=self.name))
            for task in self._listener_tasks()
        ]
        return registered, replaced, tasks

    def _listener_tasks(self) -> Iterable[PeriodicTaskSpec]:
        if self.periodic_task is not None:
            yield self.periodic_task
        yield from self.listener_side_tasks


def register_dual_listener(
    name: str,
    listener: DaemonListener,
    *,
    periodic_task: PeriodicTaskSpec | None = None,
    listener_side_tasks: Iterable[PeriodicTaskSpec] = (),
    shutdown_timeout: float = DEFAULT_SHUTDOWN_TIMEOUT,
    fatal_on_startup_failure: bool = False,
    plugin_name: str = "",
    daemons: BackgroundDaemonRegistry | None = None,
    listeners: ListenerRegistry | None = None,
) -> DualRegistration:
    """Register ``listener`` on both sides: build a :class:`DualRegistration` and apply it.

    The registries default to the process defaults; a runtime passes its own.

    :raises DaemonSpecError: a field broke its rule.
    :raises DuplicateDaemonError: a different daemon holds ``name``.
    """
    registration = DualRegistration(
        name,
        listener,
        periodic_task=periodic_task,
        listener_side_tasks=tuple(listener_side_tasks),
        shutdown_timeout=shutdown_timeout,
        fatal_on_startup_failure=fatal_on_startup_failure,
        plugin_name=plugin_name,
    )
    registration.register(daemons, listeners)
    return registration
