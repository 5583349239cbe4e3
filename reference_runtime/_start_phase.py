"""The start and drive phases of a coordinator's run (phases 1 and 2).

Mixed into :class:`~reference_runtime.Coordinator`. Phase 1 starts each daemon of the start plan
in order, each as a task a shutdown request may cut short; a failure is fatal when its entry
says so (and always for a listener without an entry). Phase 2, once every startup is done,
gives each planned periodic task a driver. :meth:`StartPhase.start_daemon`,
:meth:`StartPhase.start_drivers` and :meth:`StartPhase.start_driver` are phase hooks a fork's
coordinator may override.
"""

from __future__ import annotations

import asyncio
import inspect
import logging
from collections.abc import Collection, Sequence
from typing import TYPE_CHECKING, Literal, cast

from ._clock import Clock
from ._daemons import BackgroundDaemonEntry, DaemonHost, PeriodicTaskSpec, StartupCallable
from ._fire import StartedDaemon, drive
from ._listeners import ListenerRegistry
from ._plan import periodic_plan, start_plan
from ._timeline import EXIT_FATAL, EventKind, Recorder, describe
from ._waits import Waits, cancel, guarded, is_process_level, unwrap

__all__ = ["StartPhase"]

_log = logging.getLogger("reference_runtime.daemons")


class StartPhase:
    """Phases 1 and 2; expects the coordinator's entries, listeners, clock, run state, waits
    and recorder, and its ``request_shutdown`` and ``_escape``."""

    if TYPE_CHECKING:  # provided by the class this is mixed into
        _entries: Sequence[BackgroundDaemonEntry]
        _listeners: ListenerRegistry | None
        _clock: Clock
        _stop: asyncio.Event
        _stop_reason: str | None
        _starting: bool
        _exit_status: int
        _started: list[StartedDaemon]
        _drivers: list[asyncio.Task[None]] | None
        _fires: dict[str, int]
        _record_fires: bool
        _waits: Waits
        _recorder: Recorder

        def request_shutdown(self, reason: str = "requested") -> None: ...
        def _escape(self, exc: BaseException, reason: str) -> None: ...

    async def _start_all(self) -> bool:
        """Start everything; return ``False`` after a fatal failure."""
        # Only a request or a signal cuts a startup short, not ``until``: in virtual time, a
        # startup waiting on something real (I/O, a real sleep) leaves the loop looking idle,
        # and the whole run would pass at once.
        stop = asyncio.ensure_future(self._stop.wait())
        self._starting = True
        try:
            for name, entry in start_plan(self._entries, self._listeners):
                if self._stop_reason is not None:
                    break
                fatal = entry.fatal_on_startup_failure if entry is not None else True
                task = asyncio.ensure_future(guarded(self.start_daemon(name, entry)))
                task.set_name(f"startup:{name}")
                why = await self._waits.startup(task, stop, lambda: self._stop_reason)
                if why is None and not task.cancelled() and task.exception() is None:
                    self._started.append(task.result())
                    self._recorder.record(EventKind.STARTUP_OK, daemon=name)
                    continue
                if not self._startup_failed(name, task, why, fatal=fatal):
                    return False
        finally:
            self._starting = False
            await cancel([stop])
        return True

    def _startup_failed(
        self, name: str, task: asyncio.Task[StartedDaemon], why: str | None, *, fatal: bool
    ) -> bool:
        """Log and record a failed startup; whether starting may go on."""
        error: BaseException | None = None
        if why is None:
            if task.cancelled():
                why = "CancelledError: the startup cancelled itself"
            else:
                error = unwrap(task.exception() or RuntimeError("no exception"))
                why = describe(error)
        process_level = error is not None and is_process_level(error)
        fatal = fatal or process_level
        _log.log(
            logging.ERROR if fatal else logging.WARNING,
            "daemon %r failed to start (%s): %s",
            name,
            "fatal" if fatal else "not fatal, continuing",
            why,
            exc_info=error,
        )
        self._recorder.record(EventKind.STARTUP_FAILED, daemon=name, detail=why, fatal=fatal)
        if process_level:
            assert error is not None
            self._escape(error, f"{type(error).__name__} from the startup of {name!r}")
            return False
        if fatal:
            self._exit_status = EXIT_FATAL
            self.request_shutdown(f"fatal startup failure of {name!r}")
            return False
        return True

    async def start_daemon(self, name: str, entry: BackgroundDaemonEntry | None) -> StartedDaemon:
        """Start one daemon (phase 1): call its startup with this coordinator, await the result.

        Called once per daemon of the start plan, in order, each as a task of its own that a
        shutdown request may cancel. What it raises is that daemon's startup failure.

        :param name: the entry's or listener's name.
        :param entry: the daemon entry, or ``None`` for a listener without one (its factory is
            resolved here).
        :returns: what the stop phase needs to shut it down.
        """
        startup: StartupCallable
        if entry is not None:
            startup, shutdown, timeout = entry.startup, entry.shutdown, entry.shutdown_timeout
        else:
            assert self._listeners is not None
            resolved = self._listeners.resolve(name)
            startup, shutdown, timeout = (
                resolved.startup,
                resolved.shutdown,
                resolved.shutdown_timeout,
            )
        # The daemon is handed the coordinator this phase is part of.
        result = startup(cast("DaemonHost", self))
        if result is not None and inspect.isawaitable(result):
            await result
        return StartedDaemon(name, shutdown, timeout)

    def planned_tasks(
        self, started: Collection[str] | None = None
    ) -> list[tuple[str, PeriodicTaskSpec, Literal["daemon", "listener"]]]:
        """The periodic tasks that get a driver once the startups are done, in start order:
        :func:`periodic_plan` of this coordinator's entries and listeners. The run itself
        schedules exactly these.

        :param started: the names of the daemons and listeners whose startup succeeded; all of
            them when ``None``.
        """
        return periodic_plan(self._entries, self._listeners, started)

    @property
    def started(self) -> tuple[StartedDaemon, ...]:
        """The daemons started and not yet shut down, in start order."""
        return tuple(self._started)

    @property
    def drivers(self) -> tuple[asyncio.Task[None], ...]:
        """The periodic drivers running (none before phase 2 or after they are cancelled)."""
        return tuple(self._drivers or ())

    def start_drivers(self) -> None:
        """Start the periodic drivers (phase 2), once every startup is done: one
        :meth:`start_driver` per task of :meth:`planned_tasks` for the daemons that started."""
        tasks = self.planned_tasks({daemon.name for daemon in self._started})
        for owner, spec, side in tasks:
            self.start_driver(owner, spec, side)
        self._drivers = self._drivers or []
        self._recorder.record(EventKind.DRIVERS_STARTED, detail=f"{len(tasks)} periodic tasks")

    def start_driver(
        self, owner: str, spec: PeriodicTaskSpec, side: Literal["daemon", "listener"] = "daemon"
    ) -> asyncio.Task[None]:
        """Start one periodic driver now, on the running loop: it sleeps one interval, then
        fires (with :data:`current_fire` set), for ever; :meth:`cancel_drivers` stops it.

        :returns: the driver's task.
        """
        driver = drive(
            owner,
            spec,
            side,
            clock=self._clock,
            counts=self._fires,
            recorder=self._recorder,
            record_fires=self._record_fires,
            escape=self._escape,
        )
        task = asyncio.create_task(driver, name=f"periodic:{spec.name}")
        if self._drivers is None:
            self._drivers = []
        self._drivers.append(task)
        return task
