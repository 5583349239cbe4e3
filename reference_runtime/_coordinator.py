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

import _thread
import asyncio
import contextlib
import contextvars
import dataclasses
import enum
import inspect
import logging
import math
import signal
import threading
import time
from collections.abc import Awaitable, Callable, Collection, Iterable, Sequence
from typing import Any, Final, Literal, TypeVar

from ._clock import Clock, RealClock, VirtualClock
from ._daemons import BackgroundDaemonEntry, PeriodicTaskSpec, ShutdownCallable, StartupCallable
from ._errors import DaemonSpecError
from ._listeners import ListenerRegistry

__all__ = [
    "EXIT_FATAL",
    "EXIT_INTERRUPTED",
    "EXIT_OK",
    "Coordinator",
    "EventKind",
    "Fire",
    "StartedDaemon",
    "TimelineEvent",
    "WorkerThread",
    "current_fire",
]

_log = logging.getLogger("reference_runtime.daemons")

#: The run went as asked: every startup that matters completed, and it stopped on request, on a
#: signal once the startups were done, or at ``until``.
EXIT_OK: Final = 0
#: A fatal startup failure, or a process-level exception (``SystemExit``...) from plugin code.
EXIT_FATAL: Final = 1
#: A signal stopped the run while daemons were still starting.
EXIT_INTERRUPTED: Final = 3

# After a pending startup or a timed-out shutdown is cancelled, how long (on the clock) it gets
# to unwind before it is abandoned.
_CANCEL_GRACE = 1.0
# How long (real seconds) run_sync lets tasks still on its loop at the end unwind once cancelled.
_LEFTOVER_GRACE = 0.5
# run_sync goes back into the loop after an exception a plugin's own task raised through it; a
# plugin raising such exceptions from ever more tasks cannot keep it there longer than this.
_MAX_ROUNDS = 100
_SIGNALS = tuple(
    getattr(signal, name) for name in ("SIGTERM", "SIGINT", "SIGHUP") if hasattr(signal, name)
)

_T = TypeVar("_T")


class EventKind(str, enum.Enum):
    """What a :class:`TimelineEvent` records."""

    STARTUP_OK = "startup_ok"
    STARTUP_FAILED = "startup_failed"
    DRIVERS_STARTED = "drivers_started"
    FIRE_OK = "fire_ok"
    FIRE_FAILED = "fire_failed"
    SHUTDOWN_REQUESTED = "shutdown_requested"
    DRIVERS_CANCELLED = "drivers_cancelled"
    SHUTDOWN_OK = "shutdown_ok"
    SHUTDOWN_TIMEOUT = "shutdown_timeout"
    SHUTDOWN_FAILED = "shutdown_failed"


@dataclasses.dataclass(frozen=True, slots=True)
class TimelineEvent:
    """One thing that happened during a run.

    :ivar kind: what happened.
    :ivar at: clock seconds since the run began (virtual seconds on a virtual clock).
    :ivar daemon: the daemon or listener concerned; empty for run-wide events.
    :ivar task: the periodic task's name, for fires.
    :ivar detail: the error (``Type: message``), the shutdown reason, or the driver count.
    :ivar fatal: for a startup failure, whether it ended the run.
    """

    kind: EventKind
    at: float
    daemon: str = ""
    task: str = ""
    detail: str = ""
    fatal: bool = False

    def as_dict(self) -> dict[str, object]:
        """A JSON-ready mapping."""
        return {
            "kind": self.kind.value,
            "at": self.at,
            "daemon": self.daemon,
            "task": self.task,
            "detail": self.detail,
            "fatal": self.fatal,
        }


class WorkerThread:
    """The worker thread a synchronous shutdown runs on, as :attr:`Coordinator.abandoned_threads`
    lists it: like a daemon :class:`threading.Thread`, it never holds up the process's exit.

    Started with :mod:`_thread` rather than as a :class:`threading.Thread`: freezegun reads the
    real clock for code a few frames above the threading module's, so on a ``threading.Thread``
    a shutdown would see real time while the rest of a virtual run sees virtual time. Inside the
    shutdown, ``threading.current_thread()`` is therefore one of threading's dummy threads.
    """

    daemon = True

    def __init__(self, name: str, function: Callable[[], None]) -> None:
        self.name = name
        self._function = function
        self._finished = threading.Event()

    def start(self) -> None:
        _thread.start_new_thread(self._run, ())

    def _run(self) -> None:
        # Not naming the thread through threading.current_thread(): that would register a
        # dummy Thread object that threading keeps listing after the thread has ended.
        try:
            self._function()
        finally:
            self._finished.set()

    def is_alive(self) -> bool:
        """Whether the shutdown is still running."""
        return not self._finished.is_set()

    def join(self, timeout: float | None = None) -> None:
        """Wait up to ``timeout`` seconds for the shutdown to return."""
        self._finished.wait(timeout)

    def __repr__(self) -> str:
        state = "running" if self.is_alive() else "finished"
        return f"WorkerThread({self.name!r}, {state})"


@dataclasses.dataclass
class StartedDaemon:
    """A daemon or listener whose startup succeeded: what the stop phase needs to shut it down.

    :ivar name: the entry's or listener's name.
    :ivar shutdown: its shutdown callable, called once by the stop phase.
    :ivar shutdown_timeout: seconds the shutdown may take.
    """

    name: str
    shutdown: ShutdownCallable
    shutdown_timeout: float


@dataclasses.dataclass
class Fire:
    """One call of a periodic task's callback by a coordinator's driver, as
    :data:`current_fire` names it while the call runs.

    :ivar owner: the entry's or listener's name (``""`` for a listener-side task of no listener).
    :ivar spec: the task being fired.
    :ivar side: ``"daemon"`` for an entry's task, ``"listener"`` for a listener-side one.
    :ivar number: which fire of this driver it is, from 1.
    :ivar running: true from just before the callback is called until its call (and the await of
        what it returned) is over. A task the callback spawns inherits the context, so it still
        sees this fire in :data:`current_fire`, with ``running`` false once the fire is over.
    """

    owner: str
    spec: PeriodicTaskSpec
    side: Literal["daemon", "listener"]
    number: int
    running: bool = True


#: The fire in progress in the current context: set by a coordinator's driver around each call
#: of a periodic callback (and the await of its result), ``None`` anywhere else. Code running
#: under a driver can tell which task it serves; an observer (a test harness, say) can tell a
#: call made by the coordinator from one a daemon makes itself. Each driver is a task of its
#: own, so one driver's fire is never visible to another.
current_fire: Final[contextvars.ContextVar[Fire | None]] = contextvars.ContextVar(
    "current_fire", default=None
)


def _describe(exc: BaseException) -> str:
    return f"{type(exc).__name__}: {exc}"


class _Escaped(Exception):
    """Carries a ``KeyboardInterrupt`` or ``SystemExit`` raised by plugin code out of its task.

    asyncio re-raises those two from a task straight out of the event loop, past every await and
    every cleanup; wrapped, one reaches the coordinator like any other failure.
    """

    def __init__(self, error: BaseException) -> None:
        super().__init__(error)
        self.error = error


async def _guarded(awaitable: Awaitable[_T]) -> _T:
    try:
        return await awaitable
    except (KeyboardInterrupt, SystemExit) as exc:
        raise _Escaped(exc) from exc


def _unwrap(exc: BaseException) -> BaseException:
    return exc.error if isinstance(exc, _Escaped) else exc


def _is_process_level(exc: BaseException) -> bool:
    return not isinstance(exc, (Exception, asyncio.CancelledError))


def _is_async(function: Callable[..., object]) -> bool:
    """Calling ``function`` only creates a coroutine (runs none of its code)."""
    return inspect.iscoroutinefunction(function) or inspect.iscoroutinefunction(
        getattr(function, "__call__", None)  # noqa: B004 - an object with an async __call__
    )


def _loop_running() -> bool:
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return False
    return True


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
        self._on_event = on_event
        self._keep_timeline = keep_timeline
        self._timeline: list[TimelineEvent] = []
        self._fires: dict[str, int] = {}
        self._started: list[StartedDaemon] = []
        self._drivers: list[asyncio.Task[None]] | None = None  # None until the drivers start
        self._abandoned: list[asyncio.Task[Any]] = []
        self._abandoned_threads: list[WorkerThread] = []
        self._stop = asyncio.Event()
        self._stop_reason: str | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._t0: float | None = None
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
        return tuple(self._timeline)

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
        return tuple(self._abandoned)

    @property
    def abandoned_threads(self) -> tuple[WorkerThread, ...]:
        """Worker threads of synchronous shutdowns that overran their timeout, still running."""
        return tuple(self._abandoned_threads)

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
        self._record(EventKind.SHUTDOWN_REQUESTED, detail=reason)
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
            self._t0 = self._clock.now()
            self._install_signal_handlers(stack)
            try:
                if await self._start_all() and self._stop_reason is None:
                    self.start_drivers()
                    await self._wait(until)
            except asyncio.CancelledError:
                # Cancelled from outside: still stop what was started, then let it propagate.
                self._cancelled_from_outside()
            except BaseException as exc:  # noqa: BLE001 - re-raised once everything is down
                self._escape(exc, f"the run failed: {_describe(exc)}")
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
                    self._escape(exc, f"{_describe(exc)} from a task of a plugin's own")
            main.cancel()
            return loop.run_until_complete(main)
        finally:
            _close_loop(loop, leftover_grace)

    # --- phases -------------------------------------------------------------------------------

    def _start_plan(self) -> list[tuple[str, BackgroundDaemonEntry | None]]:
        entry_names = {entry.name for entry in self._entries}
        plan: list[tuple[str, BackgroundDaemonEntry | None]] = [
            (entry.name, entry) for entry in self._entries
        ]
        if self._listeners is not None:
            plan += [(name, None) for name in self._listeners.names() if name not in entry_names]
        return plan

    async def _start_all(self) -> bool:
        """Start everything; return ``False`` after a fatal failure."""
        # Only a request or a signal cuts a startup short, not ``until``: in virtual time, a
        # startup waiting on something real (I/O, a real sleep) leaves the loop looking idle,
        # and the whole run would pass at once.
        stop = asyncio.ensure_future(self._stop.wait())
        self._starting = True
        try:
            for name, entry in self._start_plan():
                if self._stop_reason is not None:
                    break
                fatal = entry.fatal_on_startup_failure if entry is not None else True
                task = asyncio.ensure_future(_guarded(self.start_daemon(name, entry)))
                task.set_name(f"startup:{name}")
                why = await self._await_startup(task, stop)
                if why is None and not task.cancelled() and task.exception() is None:
                    self._started.append(task.result())
                    self._record(EventKind.STARTUP_OK, daemon=name)
                    continue
                if not self._startup_failed(name, task, why, fatal=fatal):
                    return False
        finally:
            self._starting = False
            await _cancel([stop])
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
        if not await self._race(task, _CANCEL_GRACE):
            self._abandoned.append(task)
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
                error = _unwrap(task.exception() or RuntimeError("no exception"))
                why = _describe(error)
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
        self._record(EventKind.STARTUP_FAILED, daemon=name, detail=why, fatal=fatal)
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
        """The periodic tasks that get a driver once the startups are done, in start order.

        The entries' tasks first, then the listener side's tasks, except a task whose callback
        an earlier one already has (a task known to both sides runs once) and a task whose
        listener did not start. The run itself schedules exactly these.

        :param started: the names of the daemons and listeners whose startup succeeded; all of
            them when ``None``.
        :returns: ``(owner, spec, side)`` per task: the owner is the entry's or listener's name
            (``""`` for a listener-side task of no listener), the side ``"daemon"`` for an
            entry's task and ``"listener"`` for a listener-side one.
        """
        tasks: list[tuple[str, PeriodicTaskSpec, Literal["daemon", "listener"]]] = [
            (entry.name, entry.periodic_task, "daemon")
            for entry in self._entries
            if entry.periodic_task is not None and (started is None or entry.name in started)
        ]
        if self._listeners is not None:
            for listener_task in self._listeners.tasks():
                spec, owner = listener_task.spec, listener_task.listener
                if owner and started is not None and owner not in started:
                    continue
                # The same callback on an entry is the same task: the fork registered it on
                # both sides, and running both would fire it twice per interval.
                if any(spec.callback == known.callback for _, known, _ in tasks):
                    continue
                tasks.append((owner, spec, "listener"))
        return tasks

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
        self._record(EventKind.DRIVERS_STARTED, detail=f"{len(tasks)} periodic tasks")

    def start_driver(
        self, owner: str, spec: PeriodicTaskSpec, side: Literal["daemon", "listener"] = "daemon"
    ) -> asyncio.Task[None]:
        """Start one periodic driver now, on the running loop: it sleeps one interval, then
        fires (with :data:`current_fire` set), for ever; :meth:`cancel_drivers` stops it.

        :returns: the driver's task.
        """
        task = asyncio.create_task(self._drive(owner, spec, side), name=f"periodic:{spec.name}")
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
        if not await self._race(unwound, _CANCEL_GRACE):
            self._abandoned += [driver for driver in drivers if not driver.done()]
        self._record(EventKind.DRIVERS_CANCELLED, detail=f"{len(drivers)} periodic tasks")

    async def stop_daemons(self) -> None:
        """Shut every started daemon down once, in :meth:`shutdown_order`, each bounded by its
        timeout; one that hangs or raises is recorded and the rest still run. Never raises."""
        for daemon in self.shutdown_order(tuple(self._started)):
            # Off the list before its shutdown runs: whatever happens, it is shut down once.
            self._started = [d for d in self._started if d is not daemon]
            await self._stop_one(daemon)

    # --- the drivers and the stop phase's machinery ------------------------------------------

    async def _drive(
        self, owner: str, spec: PeriodicTaskSpec, side: Literal["daemon", "listener"]
    ) -> None:
        clock, callback, interval, name = (
            self._clock,
            spec.callback,
            spec.interval_seconds,
            spec.name,
        )
        fires, record_fires = self._fires, self._record_fires
        fires.setdefault(name, 0)
        number = 0
        sleeper: Callable[[float], Awaitable[None]] = clock.sleep
        if (
            isinstance(clock, VirtualClock)
            and getattr(sleeper, "__func__", None) is VirtualClock.sleep
        ):
            # What VirtualClock.sleep awaits, awaited directly (unless sleep is overridden, on
            # the class or the instance): no coroutine per fire.
            sleeper = clock._sleeper
        while True:
            await sleeper(interval)
            fires[name] += 1
            number += 1
            fire = Fire(owner, spec, side, number)
            token = current_fire.set(fire)
            try:
                result = callback()
                if result is not None and inspect.isawaitable(result):
                    await result
            except Exception as exc:  # noqa: BLE001 - one bad fire must not end the schedule
                _log.warning(
                    "periodic task %r of %r raised %s; the next interval fires as usual",
                    name,
                    owner,
                    _describe(exc),
                    exc_info=exc,
                )
                self._record(EventKind.FIRE_FAILED, daemon=owner, task=name, detail=_describe(exc))
            except (KeyboardInterrupt, SystemExit, GeneratorExit) as exc:
                if isinstance(exc, GeneratorExit) and not _loop_running():
                    raise  # this driver's coroutine is being closed, not failing
                _log.error(
                    "periodic task %r of %r raised %s: a fatal failure, the run stops",
                    name,
                    owner,
                    _describe(exc),
                    exc_info=exc,
                )
                self._record(EventKind.FIRE_FAILED, daemon=owner, task=name, detail=_describe(exc))
                self._escape(exc, f"{type(exc).__name__} from periodic task {name!r}")
                return
            else:
                if record_fires:
                    self._record(EventKind.FIRE_OK, daemon=owner, task=name)
            finally:
                fire.running = False
                # A driver closed from outside its task (the loop is gone) has another context.
                with contextlib.suppress(ValueError):
                    current_fire.reset(token)

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
            await _cancel(waiters)
        if self._stop_reason is None:
            # Fires due exactly at `until` were woken with the timer: let them finish first.
            await self._clock.sleep(0)
            self.request_shutdown(self._ran_for())

    async def _stop_one(self, daemon: StartedDaemon) -> None:
        """Shut ``daemon`` down, bounded by its timeout; record how it went. Never raises."""
        name = daemon.name
        try:
            outcome = await self._shut_down(daemon)
        except BaseException as exc:  # noqa: BLE001 - the other daemons must still shut down
            error = _unwrap(exc)
            if isinstance(error, asyncio.CancelledError):
                outcome = "shutdown cancelled itself"
            else:
                _log.warning(
                    "daemon %r failed to shut down: %s", name, _describe(error), exc_info=error
                )
                self._record(EventKind.SHUTDOWN_FAILED, daemon=name, detail=_describe(error))
                if _is_process_level(error):
                    self._escape(error, f"{type(error).__name__} from the shutdown of {name!r}")
                return
        if outcome is not None:
            _log.warning("daemon %r: %s; moving on", name, outcome)
            self._record(EventKind.SHUTDOWN_TIMEOUT, daemon=name, detail=outcome)
            return
        self._record(EventKind.SHUTDOWN_OK, daemon=name)

    async def _shut_down(self, daemon: StartedDaemon) -> str | None:
        """Call the shutdown; ``None``, or why it did not finish in time. Its error propagates.

        A coroutine function is called on the loop and awaited, bounded on the clock. Anything
        else is called on a worker thread, bounded in real time (a thread's time is real
        whatever the clock; a virtual clock is paused meanwhile): code the coordinator cannot
        interrupt can only be bounded from another thread.
        """
        name, shutdown, timeout = daemon.name, daemon.shutdown, daemon.shutdown_timeout
        if _is_async(shutdown):
            coroutine = shutdown()
            assert coroutine is not None  # a coroutine function's call is a coroutine
            return await self._bounded(name, _guarded(coroutine), timeout)
        started = time.monotonic()
        finished, result = await self._in_thread(name, shutdown, timeout)
        if not finished:
            return (
                f"shutdown did not return within {timeout:g} s; abandoned, still running on "
                "its worker thread"
            )
        if result is not None and inspect.isawaitable(result):
            remaining = max(timeout - (time.monotonic() - started), 0.0)
            return await self._bounded(name, _guarded(result), remaining)
        return None

    async def _in_thread(
        self, name: str, function: Callable[[], object], timeout: float
    ) -> tuple[bool, object]:
        """Call ``function`` on a daemon thread; wait up to ``timeout`` real seconds.

        :returns: whether it returned in time, and what it returned. What it raised is raised.
        """
        loop = asyncio.get_running_loop()
        done: asyncio.Future[object] = loop.create_future()

        def settle(result: object, error: BaseException | None) -> None:
            if done.done():
                return  # abandoned meanwhile
            if error is None:
                done.set_result(result)
            else:
                done.set_exception(error)

        def work() -> None:
            result: object = None
            error: BaseException | None = None
            try:
                result = function()
            except BaseException as exc:  # noqa: BLE001 - handed to the loop's thread
                error = exc
            with contextlib.suppress(RuntimeError):  # the loop closed: nobody waits any more
                loop.call_soon_threadsafe(settle, result, error)

        thread = WorkerThread(f"shutdown:{name}", work)
        paused = (
            self._clock.paused()
            if isinstance(self._clock, VirtualClock)
            else contextlib.nullcontext()
        )
        deadline = loop.time() + timeout
        with paused:
            thread.start()
            while not done.done() and loop.time() < deadline:
                try:
                    await asyncio.wait([done], timeout=deadline - loop.time())
                except asyncio.CancelledError:
                    self._cancelled_from_outside()  # re-raised by run() once all is down
        if not done.done():
            done.cancel()
            self._abandoned_threads.append(thread)
            return False, None
        return True, done.result()

    async def _bounded(self, name: str, awaitable: Awaitable[object], timeout: float) -> str | None:
        """Await ``awaitable`` for up to ``timeout`` clock seconds; ``None``, or why it timed out.

        Its own exception propagates. Timing out cancels it; if it will not even unwind within a
        grace period, it is left running and listed in :attr:`Coordinator.abandoned`.
        """
        task = asyncio.ensure_future(awaitable)
        task.set_name(f"shutdown:{name}")
        if await self._race(task, timeout):
            if task.cancelled():
                return "shutdown cancelled itself"
            task.result()  # re-raises the shutdown's own exception
            return None
        task.cancel()
        if await self._race(task, _CANCEL_GRACE):
            if not task.cancelled():
                task.exception()  # retrieved: it failed while unwinding, which changes nothing
            return f"shutdown did not finish within {timeout:g} s and was cancelled"
        self._abandoned.append(task)
        return (
            f"shutdown did not finish within {timeout:g} s and ignored cancellation; "
            "abandoned while still running"
        )

    async def _race(self, task: asyncio.Future[Any], seconds: float) -> bool:
        """Wait for ``task`` up to ``seconds`` on the clock; whether it is done.

        Cancellation from outside does not cut the wait short (the wait is bounded anyway):
        :meth:`run` re-raises it once every started daemon is shut down.
        """
        timer = asyncio.ensure_future(self._clock.sleep(seconds))
        try:
            while not (task.done() or timer.done()):
                try:
                    await asyncio.wait([task, timer], return_when=asyncio.FIRST_COMPLETED)
                except asyncio.CancelledError:
                    self._cancelled_from_outside()
        finally:
            timer.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await asyncio.gather(timer, return_exceptions=True)
        return task.done()

    def _end_timer(self) -> asyncio.Future[None] | None:
        """A future done at ``until`` on the clock, or ``None`` without ``until``."""
        if self._until is None:
            return None
        assert self._t0 is not None
        remaining = self._t0 + self._until - self._clock.now()
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

    def _record(
        self,
        kind: EventKind,
        *,
        daemon: str = "",
        task: str = "",
        detail: str = "",
        fatal: bool = False,
    ) -> None:
        at = 0.0 if self._t0 is None else self._clock.now() - self._t0
        event = TimelineEvent(kind, at, daemon, task, detail, fatal)
        if self._keep_timeline:
            self._timeline.append(event)
        sink = self._on_event
        if sink is not None:
            try:
                sink(event)
            except Exception as exc:  # noqa: BLE001 - a broken sink must not break the run
                self._on_event = None
                _log.warning(
                    "the coordinator's on_event callback raised %s; it gets no further events",
                    _describe(exc),
                    exc_info=exc,
                )

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


def _close_loop(loop: asyncio.AbstractEventLoop, grace: float) -> None:
    """Cancel what is still on ``loop``, give it ``grace`` real seconds, and close it anyway."""
    try:
        pending = [task for task in asyncio.all_tasks(loop) if not task.done()]
        for task in pending:
            task.cancel()
        if pending:
            loop.run_until_complete(asyncio.wait(pending, timeout=grace))
        for task in pending:
            if task.done() and not task.cancelled():
                task.exception()  # retrieved: the run is over, nobody else will
        shutdown_asyncgens = loop.create_task(loop.shutdown_asyncgens())
        loop.run_until_complete(asyncio.wait([shutdown_asyncgens], timeout=grace))
    except (KeyboardInterrupt, SystemExit):
        # Raised again through the loop by what is left of a plugin's tasks: the run's own
        # outcome, already decided, is what the caller gets.
        pass
    finally:
        loop.close()


async def _cancel(futures: Iterable[asyncio.Future[Any]]) -> None:
    """Cancel ``futures`` and wait until they are done, so nothing is left pending."""
    pending = list(futures)
    for future in pending:
        future.cancel()
    await asyncio.gather(*pending, return_exceptions=True)
