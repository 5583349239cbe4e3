"""The coordinator: runs registered daemons from startup through periodic work to shutdown.

One run, on asyncio, in four phases:

1. **Start** each daemon in registration order, passing the coordinator and awaiting async
   startups: first the daemon entries, then listeners that have no entry. A failure is fatal when
   the entry says so, and always for a listener without an entry (nothing declares it optional).
   Fatal: stop starting, skip to phase 4, exit status 1. Otherwise: log it and go on; the failed
   daemon is never shut down and its periodic task never runs. Startups have no timeout of their
   own (connecting may legitimately take long); a shutdown request or a signal cuts them short:
   it cancels the pending startup (which gets a grace to unwind, then is abandoned) and starts no
   more.
2. **Drive** every periodic task once all startups are done: each driver sleeps one interval,
   then calls, for ever; an exception is logged and the next interval fires as usual. A task
   known to both sides (the same callback on an entry and on the listener side) runs once.
3. **Wait** for a shutdown request (:meth:`Coordinator.request_shutdown`, SIGTERM, SIGINT or
   SIGHUP) or for ``until`` seconds on the clock.
4. **Stop**: cancel the drivers first, then shut the started daemons down in reverse order, each
   exactly once and bounded by its ``shutdown_timeout``; a shutdown that hangs is cancelled and
   abandoned, one that raises is logged, and the rest still run.

Plugin code runs on the event loop's thread, except a synchronous shutdown: it runs on a worker
thread of its own (a daemon thread, so it never holds up the process's exit) so that its
timeout can bound it; one that overruns is abandoned there and recorded as timed out.

A process-level exception from plugin code (``SystemExit``, ``KeyboardInterrupt``,
``GeneratorExit``; anything that is not an :class:`Exception`, cancellation aside) is a fatal
failure of that daemon, wherever it comes from: the run stops, every started daemon is still shut
down, the exit status is 1 whatever the plugin asked for, and :meth:`Coordinator.run` re-raises
the exception at the end for the embedding program to see.

Everything that happens is recorded as :class:`TimelineEvent` objects, stamped with clock time
since the run began: kept in :attr:`Coordinator.timeline`, handed to an ``on_event`` callback as
it happens, or both.
"""

from __future__ import annotations

import asyncio
import contextlib
import inspect
import logging
import math
import signal
import threading
from collections.abc import Callable, Collection, Iterable, Sequence
from typing import Any, Literal

from ._clock import Clock, RealClock
from ._daemons import BackgroundDaemonEntry, PeriodicTaskSpec, StartupCallable
from ._errors import DaemonSpecError
from ._fire import StartedDaemon, drive
from ._listeners import ListenerRegistry
from ._plan import periodic_plan, start_plan
from ._timeline import (
    EXIT_FATAL,
    EXIT_INTERRUPTED,
    EXIT_OK,
    EventKind,
    Recorder,
    TimelineEvent,
    describe,
)
from ._waits import CANCEL_GRACE, Waits, WorkerThread, cancel, close_loop, guarded, unwrap
from ._waits import is_process_level as _is_process_level

__all__ = ["Coordinator"]

_log = logging.getLogger("reference_runtime.daemons")

# How long (real seconds) run_sync lets tasks still on its loop at the end unwind once cancelled.
_LEFTOVER_GRACE = 0.5
# run_sync goes back into the loop after an exception a plugin's own task raised through it; a
# plugin raising such exceptions from ever more tasks cannot keep it there longer than this.
_MAX_ROUNDS = 100
_SIGNALS = tuple(
    getattr(signal, name) for name in ("SIGTERM", "SIGINT", "SIGHUP") if hasattr(signal, name)
)


def _in_main_thread() -> bool:
    return threading.current_thread() is threading.main_thread()


class Coordinator:
    """Runs daemons: FIFO startup, periodic drivers, LIFO shutdown. One :meth:`run` each.

    :param daemons: the daemon entries, in start order, e.g. ``registry.list_entries()``.
    :param listeners: the listener side: listeners without an entry are started after the
        entries (and are fatal on failure); its periodic tasks run unless an entry already
        carries the same callback, or their listener did not start.
    :param clock: real time by default; a :class:`~reference_runtime._clock.VirtualClock` runs
        the same schedule in virtual time. A clock that is a context manager is entered for the
        run (that is how a virtual clock puts the wall clock on virtual time).
    :param record_fires: record a ``FIRE_OK`` event per successful fire; turn it off for long
        runs of many daemons, where :meth:`fire_counts` is enough. Failures are always recorded.
    :param handle_signals: in the main thread, SIGTERM, SIGINT and SIGHUP request a shutdown for
        the duration of the run (the handlers there before are put back afterwards): ``None``
        (the default) on the real clock only, ``True`` on any clock, ``False`` never.
    :param on_event: called with each :class:`TimelineEvent` as it is recorded, on the loop's
        thread; one that raises is logged and called no more.
    :param keep_timeline: keep every event in :attr:`timeline`; turn it off when ``on_event``
        streams them, so memory does not grow with the fires.
    :raises DaemonSpecError: two entries share a name.
    """

    def __init__(
        self,
        daemons: Iterable[BackgroundDaemonEntry] = (),
        listeners: ListenerRegistry | None = None,
        *,
        clock: Clock | None = None,
        record_fires: bool = True,
        handle_signals: bool | None = None,
        on_event: Callable[[TimelineEvent], object] | None = None,
        keep_timeline: bool = True,
    ) -> None:
        self._entries = tuple(daemons)
        names = [entry.name for entry in self._entries]
        if len(set(names)) != len(names):
            twice = sorted({name for name in names if names.count(name) > 1})
            msg = (
                f"daemon names {twice!r} appear twice among the coordinator's entries; pass "
                "the entries of one BackgroundDaemonRegistry, which keeps names unique"
            )
            raise DaemonSpecError(msg, field="name")
        self._listeners = listeners
        self._clock: Clock = RealClock() if clock is None else clock
        self._record_fires = record_fires
        self._handle_signals = handle_signals
        self._recorder = Recorder(self._clock, keep=keep_timeline, sink=on_event)
        self._waits = Waits(self._clock, self._cancelled_from_outside)
        self._fires: dict[str, int] = {}
        self._started: list[StartedDaemon] = []
        self._drivers: list[asyncio.Task[None]] | None = None  # None until the drivers start
        self._stop = asyncio.Event()
        self._stop_reason: str | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._until: float | None = None
        self._ran = False
        self._starting = False
        self._exit_status = EXIT_OK
        self._interrupted = False  # a signal came while daemons were still starting
        self._cancelled = False  # the run was cancelled from outside
        self._escaped: BaseException | None = None  # re-raised by run() once all is shut down

    @property
    def clock(self) -> Clock:
        """The clock this coordinator schedules on; daemons may sleep on it too."""
        return self._clock

    @property
    def timeline(self) -> tuple[TimelineEvent, ...]:
        """Every event so far, in order (none kept with ``keep_timeline=False``)."""
        return self._recorder.events

    @property
    def exit_status(self) -> int:
        """:data:`EXIT_OK` (0); :data:`EXIT_FATAL` (1) after a fatal startup failure or a
        process-level exception from plugin code; :data:`EXIT_INTERRUPTED` (3) when a signal
        stopped the run while daemons were still starting."""
        return EXIT_INTERRUPTED if self._interrupted else self._exit_status

    @property
    def stop_reason(self) -> str | None:
        """Why the run stopped (the first shutdown request's reason); ``None`` until then."""
        return self._stop_reason

    @property
    def abandoned(self) -> tuple[asyncio.Task[Any], ...]:
        """Startups, periodic drivers and shutdowns that were cancelled and ignored it, left
        running on the loop; nothing waits for them."""
        return tuple(self._waits.abandoned)

    @property
    def abandoned_threads(self) -> tuple[WorkerThread, ...]:
        """Worker threads of synchronous shutdowns that overran their timeout, still running."""
        return tuple(self._waits.abandoned_threads)

    def fire_counts(self) -> dict[str, int]:
        """How many times each periodic task's callback was called (raising or not), by name."""
        return dict(self._fires)

    def request_shutdown(self, reason: str = "requested") -> None:
        """Ask the run to stop. Idempotent: the first reason is kept. Safe from any thread."""
        loop = self._loop
        if loop is not None and not loop.is_closed():
            try:
                running = asyncio.get_running_loop()
            except RuntimeError:
                running = None
            if running is not loop:
                loop.call_soon_threadsafe(self.request_shutdown, reason)
                return
        if self._stop_reason is not None:
            return
        self._stop_reason = reason
        _log.info("shutdown requested: %s", reason)
        self._recorder.record(EventKind.SHUTDOWN_REQUESTED, detail=reason)
        self._stop.set()

    async def run(self, *, until: float | None = None) -> int:
        """Start, drive, wait, stop; return the :attr:`exit_status`.

        Every daemon that started is shut down exactly once before this returns or raises,
        whatever happened meanwhile.

        :param until: stop after this many seconds on the clock from the start of the run, once
            the startups are done (it does not cut a startup short); ``None`` waits for a
            shutdown request. Fires due exactly at ``until`` still happen.
        :raises RuntimeError: the coordinator already ran.
        :raises ValueError: ``until`` is negative or not finite.
        :raises asyncio.CancelledError: the run was cancelled from outside (after the shutdowns).
        :raises BaseException: the process-level exception plugin code raised (after the
            shutdowns), or what broke the run itself (a clock refusing a sleep, say).
        """
        if self._ran:
            msg = "a Coordinator runs once; build a new one for another run"
            raise RuntimeError(msg)
        if until is not None and not (math.isfinite(until) and until >= 0):
            msg = f"until must be a finite number of seconds >= 0 or None, got {until!r}"
            raise ValueError(msg)
        self._ran = True
        self._loop = asyncio.get_running_loop()
        self._until = until
        with contextlib.ExitStack() as stack:
            if isinstance(self._clock, contextlib.AbstractContextManager):
                stack.enter_context(self._clock)
            self._recorder.begin()
            self._install_signal_handlers(stack)
            try:
                if await self._start_all() and self._stop_reason is None:
                    self.start_drivers()
                    await self._wait(until)
            except asyncio.CancelledError:
                # Cancelled from outside: still stop what was started, then let it propagate.
                self._cancelled_from_outside()
            except BaseException as exc:  # noqa: BLE001 - re-raised once everything is down
                self._escape(exc, f"the run failed: {describe(exc)}")
            await self.stop_all()
        if self._cancelled:
            raise asyncio.CancelledError
        if self._escaped is not None:
            raise self._escaped
        return self.exit_status

    def run_sync(
        self, *, until: float | None = None, leftover_grace: float = _LEFTOVER_GRACE
    ) -> int:
        """:meth:`run` on an event loop of its own, as ``asyncio.run`` would, but bounded.

        ``asyncio.run`` ends by cancelling every task still on its loop and waiting for them
        without limit, so an abandoned shutdown that ignores cancellation keeps it waiting for
        ever, and ``KeyboardInterrupt`` or ``SystemExit`` from a task of a plugin's own ends it
        at once. Here such an exception is a fatal failure (the run stops, every started daemon
        is shut down, then it is re-raised), and leftover tasks get ``leftover_grace`` real
        seconds to unwind once cancelled; the loop is closed regardless. Worker threads are not
        waited for (the default executor is shut down without waiting).

        :returns: the :attr:`exit_status`.
        :raises BaseException: as :meth:`run` does.
        """
        loop = asyncio.new_event_loop()
        try:
            main = loop.create_task(self.run(until=until), name="coordinator")
            for _ in range(_MAX_ROUNDS):
                try:
                    return loop.run_until_complete(main)
                except (KeyboardInterrupt, SystemExit) as exc:
                    if main.done():
                        raise
                    # From a task of the plugin's own, through the loop: a fatal failure.
                    self._escape(exc, f"{describe(exc)} from a task of a plugin's own")
            main.cancel()
            return loop.run_until_complete(main)
        finally:
            close_loop(loop, leftover_grace)

    # --- phases -------------------------------------------------------------------------------

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
                why = await self._await_startup(task, stop)
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

    async def _await_startup(
        self, task: asyncio.Task[StartedDaemon], stop: asyncio.Future[Any]
    ) -> str | None:
        """Wait for a startup, or for a shutdown request first; ``None``, or why it was cut short.

        A startup still pending when shutdown is requested is cancelled and gets a grace to
        unwind; one that ignores that is abandoned.
        """
        try:
            await asyncio.wait([task, stop], return_when=asyncio.FIRST_COMPLETED)
        except asyncio.CancelledError:
            self._cancelled_from_outside()
        if task.done():
            return None
        task.cancel()
        why = f"cancelled: still starting when the run was stopped ({self._stop_reason})"
        if not await self._waits.race(task, CANCEL_GRACE):
            self._waits.abandoned.append(task)
            return f"{why}; it ignored cancellation and was abandoned while still running"
        if not task.cancelled() and task.exception() is None:
            return None  # it finished after all: started, so it will be shut down
        return why

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
        process_level = error is not None and _is_process_level(error)
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

    # --- phase hooks: what a subclass (a fork's coordinator) overrides -------------------------

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
        result = startup(self)
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

    def shutdown_order(self, started: Sequence[StartedDaemon]) -> list[StartedDaemon]:
        """The order the stop phase shuts ``started`` (in start order) down in: the reverse."""
        return list(reversed(started))

    async def stop_all(self) -> None:
        """The stop phase (phase 4): :meth:`cancel_drivers`, then :meth:`stop_daemons`."""
        await self.cancel_drivers()
        await self.stop_daemons()

    async def cancel_drivers(self) -> None:
        """Cancel every periodic driver and wait for them to unwind, for a grace at most; one
        whose callback ignores cancellation is abandoned. A no-op without drivers."""
        if self._drivers is None:
            return
        drivers, self._drivers = self._drivers, None
        for driver in drivers:
            driver.cancel()
        # A callback that ignores cancellation must not hold up the shutdowns: a grace, then
        # its driver is abandoned.
        unwound = asyncio.gather(*drivers, return_exceptions=True)
        if not await self._waits.race(unwound, CANCEL_GRACE):
            self._waits.abandoned += [driver for driver in drivers if not driver.done()]
        self._recorder.record(EventKind.DRIVERS_CANCELLED, detail=f"{len(drivers)} periodic tasks")

    async def stop_daemons(self) -> None:
        """Shut every started daemon down once, in :meth:`shutdown_order`, each bounded by its
        timeout; one that hangs or raises is recorded and the rest still run. Never raises."""
        for daemon in self.shutdown_order(tuple(self._started)):
            # Off the list before its shutdown runs: whatever happens, it is shut down once.
            self._started = [d for d in self._started if d is not daemon]
            await self._stop_one(daemon)

    # --- waiting and stopping ----------------------------------------------------------------

    async def _wait(self, until: float | None) -> None:
        waiters: list[asyncio.Future[Any]] = [asyncio.ensure_future(self._stop.wait())]
        end = self._end_timer()
        if end is not None:
            waiters.append(end)
        try:
            await asyncio.wait(waiters, return_when=asyncio.FIRST_COMPLETED)
            if end is not None and end.done():
                end.result()  # the clock refused the sleep: the run breaks, loudly
        finally:
            await cancel(waiters)
        if self._stop_reason is None:
            # Fires due exactly at `until` were woken with the timer: let them finish first.
            await self._clock.sleep(0)
            self.request_shutdown(self._ran_for())

    async def _stop_one(self, daemon: StartedDaemon) -> None:
        """Shut ``daemon`` down, bounded by its timeout; record how it went. Never raises."""
        name = daemon.name
        try:
            outcome = await self._waits.shut_down(daemon)
        except BaseException as exc:  # noqa: BLE001 - the other daemons must still shut down
            error = unwrap(exc)
            if isinstance(error, asyncio.CancelledError):
                outcome = "shutdown cancelled itself"
            else:
                _log.warning(
                    "daemon %r failed to shut down: %s", name, describe(error), exc_info=error
                )
                self._recorder.record(
                    EventKind.SHUTDOWN_FAILED, daemon=name, detail=describe(error)
                )
                if _is_process_level(error):
                    self._escape(error, f"{type(error).__name__} from the shutdown of {name!r}")
                return
        if outcome is not None:
            _log.warning("daemon %r: %s; moving on", name, outcome)
            self._recorder.record(EventKind.SHUTDOWN_TIMEOUT, daemon=name, detail=outcome)
            return
        self._recorder.record(EventKind.SHUTDOWN_OK, daemon=name)

    def _end_timer(self) -> asyncio.Future[None] | None:
        """A future done at ``until`` on the clock, or ``None`` without ``until``."""
        if self._until is None:
            return None
        t0 = self._recorder.t0
        assert t0 is not None
        remaining = t0 + self._until - self._clock.now()
        return asyncio.ensure_future(self._clock.sleep(remaining))

    def _ran_for(self) -> str:
        return f"ran for {self._until:g} s"

    def _escape(self, exc: BaseException, reason: str) -> None:
        """A process-level exception (or a broken run): fatal; stop, re-raise it at the end."""
        if self._escaped is None:
            self._escaped = exc
        self._exit_status = EXIT_FATAL
        self.request_shutdown(reason)

    def _cancelled_from_outside(self) -> None:
        self._cancelled = True
        self.request_shutdown("cancelled")

    # --- plumbing -----------------------------------------------------------------------------

    def _install_signal_handlers(self, stack: contextlib.ExitStack) -> None:
        wanted = self._handle_signals
        if wanted is None:
            wanted = isinstance(self._clock, RealClock)
        if not (wanted and _in_main_thread()):
            return
        loop = self._loop
        assert loop is not None
        for sig in _SIGNALS:
            previous = signal.getsignal(sig)
            try:
                loop.add_signal_handler(sig, self._on_signal, sig)
            except (NotImplementedError, RuntimeError):  # pragma: no cover - e.g. Windows
                continue
            stack.callback(_restore_signal, loop, sig, previous)

    def _on_signal(self, sig: signal.Signals) -> None:
        if self._stop_reason is None and self._starting:
            self._interrupted = True
        self.request_shutdown(sig.name)


def _restore_signal(
    loop: asyncio.AbstractEventLoop, sig: signal.Signals, previous: Callable[..., Any] | int | None
) -> None:
    # remove_signal_handler resets to the default; put back whatever was there before the run.
    loop.remove_signal_handler(sig)
    if previous is not None:
        signal.signal(sig, previous)
