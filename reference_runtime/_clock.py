"""Clocks for the coordinator: real time on asyncio, or virtual time that costs nothing to pass.

The coordinator only ever asks a clock two things, :meth:`Clock.now` and :meth:`Clock.sleep`, so
the same code runs a daemon for real or drives a day of its schedule in a fraction of a second.

:class:`VirtualClock` keeps its sleepers by deadline: a heap of the distinct deadlines, and for each
the sleepers due then in arrival order (tasks sharing an interval share deadlines, so a sleeper
costs a list append rather than a heap operation). When the event loop has nothing else to do,
every task is waiting on something, so the clock jumps straight to the earliest deadline and wakes
all sleepers due then. There is no ticking and no polling by interval: a day of 60-second tasks is
1,440 jumps however many tasks share them.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import heapq
import math
import time
from collections.abc import Callable, Iterator, Sized
from types import TracebackType
from typing import Protocol, runtime_checkable

__all__ = ["DEFAULT_EPOCH", "Clock", "RealClock", "VirtualClock"]

#: Where virtual wall-clock time starts unless a :class:`VirtualClock` is told otherwise.
DEFAULT_EPOCH = dt.datetime(2025, 1, 1, tzinfo=dt.timezone.utc)

# Without a visible ready queue, the clock counts this many consecutive turns of the event loop
# without a new sleeper before it decides everyone is blocked (see VirtualClock._is_idle).
_SETTLE_TURNS = 16

# A sleep at least this long that the float ``now + seconds`` cannot tell from ``now`` is refused:
# a periodic task sleeping it would fire for ever at one instant. (Shorter sleeps that round away
# are harmless one-offs, such as the last sliver of a run's remaining time.)
_RESOLUTION = 1e-3


@runtime_checkable
class Clock(Protocol):
    """What the coordinator needs from time."""

    def now(self) -> float:
        """Seconds on this clock; only differences are meaningful."""
        ...

    async def sleep(self, seconds: float) -> None:
        """Return after ``seconds`` have passed on this clock (at once for ``seconds <= 0``)."""
        ...


class RealClock:
    """Real time: :func:`time.monotonic` and :func:`asyncio.sleep`."""

    def now(self) -> float:
        return time.monotonic()

    async def sleep(self, seconds: float) -> None:
        await asyncio.sleep(seconds)

    def __repr__(self) -> str:
        return "RealClock()"


def _ready_queue(loop: asyncio.AbstractEventLoop) -> Sized | None:
    """The loop's queue of callbacks ready to run, if this loop exposes one.

    CPython's own event loops (``BaseEventLoop`` and its selector and proactor subclasses) keep it
    in ``_ready``. It is the only exact test for "every task is blocked": an empty queue while
    the clock's own callback runs means nothing else can make progress without time passing.
    """
    ready = getattr(loop, "_ready", None)
    return ready if isinstance(ready, Sized) else None


def _settle(due: list[asyncio.Future[None]], failure: Exception | None) -> None:
    """Wake the sleepers of one deadline, with ``failure`` raised in them if there is one."""
    for future in due:
        if future.done():
            continue
        if failure is None:
            future.set_result(None)
        else:
            future.set_exception(failure)


class _Movable(Protocol):
    """What freezegun's frozen-time factory offers to move it."""

    def move_to(self, target_datetime: dt.datetime, /) -> None: ...


class VirtualClock:
    """Virtual time that jumps to the next deadline whenever the event loop is idle.

    Works with the standard asyncio event loop as it is, no custom loop needed. Code under test
    must sleep through this clock (``coordinator.clock.sleep``) to be scheduled in virtual time;
    a plain :func:`asyncio.sleep` or real I/O still waits in real time, and virtual time may pass
    meanwhile, since a task waiting on those looks blocked.

    ``sleep(0)`` is useful on its own: it returns once every other task is blocked, which makes it
    a barrier for "let everything due now finish".

    :param start: the initial value of :meth:`now`.
    :param epoch: the wall-clock time that ``start`` stands for; naive means UTC.
    :param wall_clock: when true, while the clock is entered as a context manager, ``time.time()``,
        ``datetime.now()`` and friends read :meth:`wall_time`, moved at every jump (through
        freezegun, which must be installed). Off by default: patching every imported module
        costs a little at entry, and it affects every thread of the process.

    A sleep the clock cannot honour raises :class:`ValueError` in the sleeper, never inside the
    event loop (where asyncio would only log it and leave the sleeper waiting for ever): NaN, a
    deadline past :attr:`horizon`, or a sleep too short to move a very large ``now``.
    """

    def __init__(
        self, *, start: float = 0.0, epoch: dt.datetime = DEFAULT_EPOCH, wall_clock: bool = False
    ) -> None:
        self._now = float(start)
        self._start = self._now
        self._epoch = epoch if epoch.tzinfo else epoch.replace(tzinfo=dt.timezone.utc)
        self._wall_clock = wall_clock
        self._horizon = math.inf
        if wall_clock:
            latest = dt.datetime.max.replace(tzinfo=dt.timezone.utc) - self._epoch
            # Whole seconds: a float of ~1e11 seconds cannot carry the microseconds exactly.
            self._horizon = float(latest // dt.timedelta(seconds=1))
        self._latest = self._start + self._horizon
        self._paused = 0
        #: The distinct deadlines that have sleepers (a heap), and their sleepers in arrival order.
        self._deadlines: list[float] = []
        self._sleepers: dict[float, list[asyncio.Future[None]]] = {}
        self._loop: asyncio.AbstractEventLoop | None = None
        self._advance_scheduled = False
        self._quiet_turns = 0
        self._entered = 0
        self._unfreeze: Callable[[], None] | None = None
        self._frozen: _Movable | None = None

    def now(self) -> float:
        return self._now

    def wall_time(self) -> dt.datetime:
        """The wall-clock time that :meth:`now` stands for: ``epoch + (now - start)``."""
        return self._epoch + dt.timedelta(seconds=self._now - self._start)

    @property
    def horizon(self) -> float:
        """How many seconds past ``start`` this clock can run: with the wall clock, as far as a
        :class:`~datetime.datetime` reaches (the year 9999); otherwise without limit."""
        return self._horizon

    @contextlib.contextmanager
    def paused(self) -> Iterator[None]:
        """Hold virtual time still for the duration, though the event loop looks idle.

        For waiting on work that is not on the event loop (a worker thread, say): the loop is
        idle meanwhile, and without the pause time would jump to the next deadline at once.
        Nests; sleepers due meanwhile wake once the last pause ends.
        """
        self._paused += 1
        try:
            yield
        finally:
            self._paused -= 1
            loop = self._loop
            if not self._paused and loop is not None and not loop.is_closed():
                self._schedule_advance(loop)

    @property
    def pending(self) -> int:
        """How many sleepers are waiting."""
        return sum(1 for due in self._sleepers.values() for future in due if not future.done())

    async def sleep(self, seconds: float) -> None:
        await self._sleeper(seconds)

    def _sleeper(self, seconds: float) -> asyncio.Future[None]:
        """Register a sleeper due ``seconds`` from now; the future it waits on.

        :meth:`sleep` awaits it; the coordinator's periodic drivers await it directly, which
        spares every fire a coroutine (unless ``sleep`` is overridden).
        """
        if math.isnan(seconds):
            msg = "VirtualClock.sleep() got NaN seconds; pass a number of seconds >= 0"
            raise ValueError(msg)
        # The hot path of every periodic fire: the helpers below are inlined here.
        loop = asyncio.get_running_loop()
        if loop is not self._loop:
            self._bind(loop)
        if seconds > 0:
            deadline = self._now + seconds
            if deadline > self._latest or (deadline == self._now and seconds >= _RESOLUTION):
                self._refuse(seconds)
        else:
            deadline = self._now
        future: asyncio.Future[None] = loop.create_future()
        due = self._sleepers.get(deadline)
        if due is None:
            self._sleepers[deadline] = [future]
            heapq.heappush(self._deadlines, deadline)
        else:
            due.append(future)
        self._quiet_turns = 0
        if not self._advance_scheduled:
            self._advance_scheduled = True
            loop.call_soon(self._advance)
        return future

    def _refuse(self, seconds: float) -> None:
        if self._now + seconds > self._latest:
            msg = (
                f"VirtualClock.sleep({seconds!r}) at now={self._now!r} reaches past the virtual "
                f"wall clock's range ({self._horizon:.0f} s after {self._epoch:%Y-%m-%d}, the "
                "year 9999); sleep less, or run without wall_clock"
            )
        else:
            msg = (
                f"VirtualClock.sleep({seconds!r}) is too short to move now={self._now!r} (the "
                "float cannot tell the deadline from now); start the clock nearer 0"
            )
        raise ValueError(msg)

    def _bind(self, loop: asyncio.AbstractEventLoop) -> asyncio.AbstractEventLoop:
        if self._loop is not loop:
            if self.pending:
                msg = "VirtualClock is in use by another event loop; use one clock per loop"
                raise RuntimeError(msg)
            self._loop = loop
            self._deadlines.clear()
            self._sleepers.clear()
            self._advance_scheduled = False
        return loop

    def _schedule_advance(self, loop: asyncio.AbstractEventLoop) -> None:
        if not self._advance_scheduled:
            self._advance_scheduled = True
            loop.call_soon(self._advance)

    def _is_idle(self, loop: asyncio.AbstractEventLoop) -> bool:
        ready = _ready_queue(loop)
        if ready is not None:
            return not ready
        # An unknown loop: assume idleness after a run of turns in which nobody slept, which is
        # right unless a task hands work on through more than _SETTLE_TURNS plain yields.
        self._quiet_turns += 1
        return self._quiet_turns > _SETTLE_TURNS

    def _advance(self) -> None:
        """Wake the sleepers at the earliest deadline, once nothing else can run."""
        self._advance_scheduled = False
        loop = self._loop
        deadlines, sleepers = self._deadlines, self._sleepers
        if loop is None:
            return
        # Cancelled sleepers must not move time: drop deadlines that only they were waiting for.
        while deadlines and all(future.done() for future in sleepers[deadlines[0]]):
            del sleepers[heapq.heappop(deadlines)]
        if not deadlines:
            return
        if self._paused:
            return  # the last pause to end schedules the next advance
        if not self._is_idle(loop):
            self._schedule_advance(loop)
            return
        self._quiet_turns = 0
        deadline = heapq.heappop(deadlines)
        due = sleepers.pop(deadline)
        if deadline > self._now:
            failure = self._move_wall_clock(deadline)
            if failure is not None:
                # Raised here, asyncio would only log it and the sleepers would wait for ever;
                # they hear of it instead, and time stays where it was.
                _settle(due, failure)
                if deadlines:
                    self._schedule_advance(loop)
                return
            self._now = deadline
        _settle(due, None)
        if deadlines:
            self._schedule_advance(loop)

    def _move_wall_clock(self, deadline: float) -> Exception | None:
        """Move the frozen wall clock (if any) to ``deadline``; what went wrong, if anything."""
        if self._frozen is None:
            return None
        try:
            self._frozen.move_to(self._epoch + dt.timedelta(seconds=deadline - self._start))
        except Exception as exc:  # noqa: BLE001 - handed to the sleepers
            return exc
        return None

    def __enter__(self) -> VirtualClock:
        self._entered += 1
        if self._wall_clock and self._entered == 1:
            try:
                from freezegun import freeze_time  # noqa: PLC0415 - optional, costly to import
            except ImportError as exc:  # pragma: no cover - freezegun ships with the test extra
                msg = "VirtualClock(wall_clock=True) needs freezegun: pip install freezegun"
                raise RuntimeError(msg) from exc
            # real_asyncio keeps the event loop on real monotonic time, or its own timers stop.
            freezer = freeze_time(self.wall_time(), real_asyncio=True)
            self._frozen = freezer.start()
            self._unfreeze = freezer.stop
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self._entered -= 1
        if self._entered == 0 and self._unfreeze is not None:
            self._unfreeze()
            self._unfreeze = self._frozen = None

    def __repr__(self) -> str:
        return f"VirtualClock(now={self._now!r}, pending={self.pending})"
