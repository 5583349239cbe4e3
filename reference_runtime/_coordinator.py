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
import logging
import math
import signal
import threading
from collections.abc import Callable, Iterable
from typing import Any

from ._clock import Clock, RealClock
from ._daemons import BackgroundDaemonEntry
from ._errors import DaemonSpecError
from ._fire import StartedDaemon
from ._listeners import ListenerRegistry
from ._start_phase import StartPhase
from ._stop_phase import StopPhase
from ._timeline import (
    EXIT_FATAL,
    EXIT_INTERRUPTED,
    EXIT_OK,
    EventKind,
    Recorder,
    TimelineEvent,
    describe,
)
from ._waits import Waits, WorkerThread, cancel, run_on_own_loop

__all__ = ["Coordinator"]

_log = logging.getLogger("reference_runtime.daemons")

# How long (real seconds) run_sync lets tasks still on its loop at the end unwind once cancelled.
_LEFTOVER_GRACE = 0.5
_SIGNALS = tuple(
    getattr(signal, name) for name in ("SIGTERM", "SIGINT", "SIGHUP") if hasattr(signal, name)
)


def _in_main_thread() -> bool:
    return threading.current_thread() is threading.main_thread()


class Coordinator(StartPhase, StopPhase):
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
        return run_on_own_loop(
            lambda: self.run(until=until),
            lambda exc: self._escape(exc, f"{describe(exc)} from a task of a plugin's own"),
            leftover_grace,
        )

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
