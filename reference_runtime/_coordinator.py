"""The coordinator: runs registered daemons from startup through periodic work to shutdown.

One run, on asyncio, in four phases:

1. **Start** each daemon in registration order, passing the coordinator and awaiting async
   startups: first the daemon entries, then listeners that have no entry. A failure is fatal when
   the entry says so, and always for a listener without an entry (nothing declares it optional).
   Fatal: stop starting, skip to phase 4, exit status 1. Otherwise: log it and go on; the failed
   daemon is never shut down and its periodic task never runs.
2. **Drive** every periodic task once all startups are done: each driver sleeps one interval,
   then calls, for ever; an exception is logged and the next interval fires as usual. A task
   known to both sides (the same callback on an entry and on the listener side) runs once.
3. **Wait** for a shutdown request (:meth:`Coordinator.request_shutdown`, SIGTERM or SIGINT) or
   for ``until`` seconds on the clock.
4. **Stop**: cancel the drivers first, then shut the started daemons down in reverse order, each
   bounded by its ``shutdown_timeout``; a shutdown that hangs is cancelled and abandoned, one
   that raises is logged, and the rest still run.

Everything that happens is appended to :attr:`Coordinator.timeline` as :class:`TimelineEvent`
objects, stamped with clock time since the run began.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import enum
import inspect
import logging
import math
import signal
import threading
from collections.abc import Awaitable, Callable, Collection, Iterable
from typing import Any, Literal

from ._clock import Clock, RealClock, VirtualClock
from ._daemons import BackgroundDaemonEntry, PeriodicTaskSpec, ShutdownCallable, StartupCallable
from ._errors import DaemonSpecError
from ._listeners import ListenerRegistry

__all__ = ["Coordinator", "EventKind", "TimelineEvent"]

_log = logging.getLogger("reference_runtime.daemons")

# After a timed-out shutdown is cancelled, how long (on the clock) it gets to unwind.
_CANCEL_GRACE = 1.0
_SIGNALS = (signal.SIGTERM, signal.SIGINT)


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


@dataclasses.dataclass
class _Started:
    name: str
    shutdown: ShutdownCallable
    shutdown_timeout: float


def _describe(exc: BaseException) -> str:
    return f"{type(exc).__name__}: {exc}"


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
    :param handle_signals: on the real clock and in the main thread, SIGTERM and SIGINT request
        a shutdown for the duration of the run.
    :raises DaemonSpecError: two entries share a name.
    """

    def __init__(
        self,
        daemons: Iterable[BackgroundDaemonEntry] = (),
        listeners: ListenerRegistry | None = None,
        *,
        clock: Clock | None = None,
        record_fires: bool = True,
        handle_signals: bool = True,
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
        self._timeline: list[TimelineEvent] = []
        self._fires: dict[str, int] = {}
        self._started: list[_Started] = []
        self._drivers: list[asyncio.Task[None]] | None = None  # None until the drivers start
        self._abandoned: list[asyncio.Task[Any]] = []
        self._stop = asyncio.Event()
        self._stop_reason: str | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._t0: float | None = None
        self._ran = False
        self._exit_status = 0

    @property
    def clock(self) -> Clock:
        """The clock this coordinator schedules on; daemons may sleep on it too."""
        return self._clock

    @property
    def timeline(self) -> tuple[TimelineEvent, ...]:
        """Every event so far, in order."""
        return tuple(self._timeline)

    @property
    def exit_status(self) -> int:
        """0, or 1 after a fatal startup failure."""
        return self._exit_status

    @property
    def abandoned(self) -> tuple[asyncio.Task[Any], ...]:
        """Shutdowns that timed out and then ignored cancellation; still running."""
        return tuple(self._abandoned)

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
        """Start, drive, wait, stop; return the exit status (0, or 1 after a fatal failure).

        :param until: stop after this many seconds on the clock from the start of the run;
            ``None`` waits for a shutdown request. Fires due exactly at ``until`` still happen.
        :raises RuntimeError: the coordinator already ran.
        :raises ValueError: ``until`` is negative or not finite.
        """
        if self._ran:
            msg = "a Coordinator runs once; build a new one for another run"
            raise RuntimeError(msg)
        if until is not None and not (math.isfinite(until) and until >= 0):
            msg = f"until must be a finite number of seconds >= 0 or None, got {until!r}"
            raise ValueError(msg)
        self._ran = True
        self._loop = asyncio.get_running_loop()
        with contextlib.ExitStack() as stack:
            if isinstance(self._clock, contextlib.AbstractContextManager):
                stack.enter_context(self._clock)
            self._t0 = self._clock.now()
            self._install_signal_handlers(stack)
            try:
                if await self._start_all() and self._stop_reason is None:
                    self._start_drivers()
                    await self._wait(until)
            except asyncio.CancelledError:
                # Cancelled from outside: still stop what was started, then let it propagate.
                self.request_shutdown("cancelled")
                await self._stop_all()
                raise
            await self._stop_all()
        return self._exit_status

    # --- phases -------------------------------------------------------------------------------

    async def _start_all(self) -> bool:
        """Start everything; return ``False`` after a fatal failure."""
        entry_names = {entry.name for entry in self._entries}
        plan: list[tuple[str, BackgroundDaemonEntry | None]] = [
            (entry.name, entry) for entry in self._entries
        ]
        if self._listeners is not None:
            plan += [(name, None) for name in self._listeners.names() if name not in entry_names]
        for name, entry in plan:
            if self._stop_reason is not None:
                break
            fatal = entry.fatal_on_startup_failure if entry is not None else True
            try:
                started = await self._start_one(name, entry)
            except Exception as exc:  # noqa: BLE001 - a daemon's failure is data, not a crash
                _log.log(
                    logging.ERROR if fatal else logging.WARNING,
                    "daemon %r failed to start (%s): %s",
                    name,
                    "fatal" if fatal else "not fatal, continuing",
                    _describe(exc),
                    exc_info=exc,
                )
                self._record(
                    EventKind.STARTUP_FAILED, daemon=name, detail=_describe(exc), fatal=fatal
                )
                if fatal:
                    self._exit_status = 1
                    self.request_shutdown(f"fatal startup failure of {name!r}")
                    return False
                continue
            self._started.append(started)
            self._record(EventKind.STARTUP_OK, daemon=name)
        return True

    async def _start_one(self, name: str, entry: BackgroundDaemonEntry | None) -> _Started:
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
        return _Started(name, shutdown, timeout)

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

    def _start_drivers(self) -> None:
        tasks = self.planned_tasks({daemon.name for daemon in self._started})
        self._drivers = [
            asyncio.create_task(self._drive(owner, spec), name=f"periodic:{spec.name}")
            for owner, spec, _ in tasks
        ]
        self._record(EventKind.DRIVERS_STARTED, detail=f"{len(tasks)} periodic tasks")

    async def _drive(self, owner: str, spec: PeriodicTaskSpec) -> None:
        clock, callback, interval, name = (
            self._clock,
            spec.callback,
            spec.interval_seconds,
            spec.name,
        )
        fires, record_fires = self._fires, self._record_fires
        fires.setdefault(name, 0)
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
            else:
                if record_fires:
                    self._record(EventKind.FIRE_OK, daemon=owner, task=name)

    async def _wait(self, until: float | None) -> None:
        assert self._t0 is not None
        waiters: list[asyncio.Future[Any]] = [asyncio.ensure_future(self._stop.wait())]
        if until is not None:
            remaining = self._t0 + until - self._clock.now()
            waiters.append(asyncio.ensure_future(self._clock.sleep(remaining)))
        try:
            await asyncio.wait(waiters, return_when=asyncio.FIRST_COMPLETED)
        finally:
            await _cancel(waiters)
        if self._stop_reason is None:
            # Fires due exactly at `until` were woken with the timer: let them finish first.
            await self._clock.sleep(0)
            self.request_shutdown(f"ran for {until:g} s")

    async def _stop_all(self) -> None:
        if self._drivers is not None:
            await _cancel(self._drivers)
            self._record(EventKind.DRIVERS_CANCELLED, detail=f"{len(self._drivers)} periodic tasks")
            self._drivers = None
        while self._started:
            daemon = self._started.pop()
            await self._stop_one(daemon)

    async def _stop_one(self, daemon: _Started) -> None:
        name, timeout = daemon.name, daemon.shutdown_timeout
        try:
            result = daemon.shutdown()
            if result is not None and inspect.isawaitable(result):
                outcome = await self._bounded(name, result, timeout)
            else:
                outcome = None
        except Exception as exc:  # noqa: BLE001 - the other daemons must still shut down
            _log.warning("daemon %r failed to shut down: %s", name, _describe(exc), exc_info=exc)
            self._record(EventKind.SHUTDOWN_FAILED, daemon=name, detail=_describe(exc))
            return
        if outcome is not None:
            _log.warning("daemon %r: %s; moving on", name, outcome)
            self._record(EventKind.SHUTDOWN_TIMEOUT, daemon=name, detail=outcome)
            return
        self._record(EventKind.SHUTDOWN_OK, daemon=name)

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
        """Wait for ``task`` up to ``seconds`` on the clock; whether it is done."""
        timer = asyncio.ensure_future(self._clock.sleep(seconds))
        try:
            await asyncio.wait([task, timer], return_when=asyncio.FIRST_COMPLETED)
        finally:
            await _cancel([timer])
        return task.done()

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
        self._timeline.append(TimelineEvent(kind, at, daemon, task, detail, fatal))

    def _install_signal_handlers(self, stack: contextlib.ExitStack) -> None:
        if not (self._handle_signals and isinstance(self._clock, RealClock) and _in_main_thread()):
            return
        loop = self._loop
        assert loop is not None
        for sig in _SIGNALS:
            previous = signal.getsignal(sig)
            try:
                loop.add_signal_handler(sig, self.request_shutdown, sig.name)
            except (NotImplementedError, RuntimeError):  # pragma: no cover - e.g. Windows
                continue
            stack.callback(_restore_signal, loop, sig, previous)


def _restore_signal(
    loop: asyncio.AbstractEventLoop, sig: signal.Signals, previous: Callable[..., Any] | int | None
) -> None:
    # remove_signal_handler resets to the default; put back whatever was there before the run.
    loop.remove_signal_handler(sig)
    if previous is not None:
        signal.signal(sig, previous)


async def _cancel(futures: Iterable[asyncio.Future[Any]]) -> None:
    """Cancel ``futures`` and wait until they are done, so nothing is left pending."""
    pending = list(futures)
    for future in pending:
        future.cancel()
    await asyncio.gather(*pending, return_exceptions=True)
