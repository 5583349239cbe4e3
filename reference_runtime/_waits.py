"""Bounded waits: how a coordinator waits for plugin code without ever being held by it.

Plugin code may hang, ignore cancellation, block a thread or raise process-level exceptions.
Everything here waits for it on the run's clock (or, for a thread, in real time) up to a bound,
cancels what overruns, gives it a grace to unwind and otherwise *abandons* it: lists it and
moves on. :class:`Waits` holds those lists for one run.
"""

from __future__ import annotations

import _thread
import asyncio
import contextlib
import inspect
import threading
import time
from collections.abc import Awaitable, Callable, Iterable
from typing import Any, TypeVar

from ._clock import Clock, VirtualClock
from ._fire import StartedDaemon

__all__ = [
    "CANCEL_GRACE",
    "Waits",
    "WorkerThread",
    "cancel",
    "close_loop",
    "guarded",
    "is_async",
    "is_process_level",
    "unwrap",
]

#: After a pending startup or a timed-out shutdown is cancelled, how long (on the clock) it gets
#: to unwind before it is abandoned.
CANCEL_GRACE = 1.0

_T = TypeVar("_T")


class _Escaped(Exception):
    """Carries a ``KeyboardInterrupt`` or ``SystemExit`` raised by plugin code out of its task.

    asyncio re-raises those two from a task straight out of the event loop, past every await and
    every cleanup; wrapped, one reaches the coordinator like any other failure.
    """

    def __init__(self, error: BaseException) -> None:
        super().__init__(error)
        self.error = error


async def guarded(awaitable: Awaitable[_T]) -> _T:
    """Await ``awaitable``, wrapping a ``KeyboardInterrupt`` or ``SystemExit`` in
    :class:`_Escaped`."""
    try:
        return await awaitable
    except (KeyboardInterrupt, SystemExit) as exc:
        raise _Escaped(exc) from exc


def unwrap(exc: BaseException) -> BaseException:
    """The plugin's own exception, out of an :class:`_Escaped` wrapper if it is in one."""
    return exc.error if isinstance(exc, _Escaped) else exc


def is_process_level(exc: BaseException) -> bool:
    """Not an :class:`Exception` (cancellation aside): ``SystemExit``, ``KeyboardInterrupt``..."""
    return not isinstance(exc, (Exception, asyncio.CancelledError))


def is_async(function: Callable[..., object]) -> bool:
    """Calling ``function`` only creates a coroutine (runs none of its code)."""
    return inspect.iscoroutinefunction(function) or inspect.iscoroutinefunction(
        getattr(function, "__call__", None)  # noqa: B004 - an object with an async __call__
    )


async def cancel(futures: Iterable[asyncio.Future[Any]]) -> None:
    """Cancel ``futures`` and wait until they are done, so nothing is left pending."""
    pending = list(futures)
    for future in pending:
        future.cancel()
    await asyncio.gather(*pending, return_exceptions=True)


class WorkerThread:
    """The worker thread a synchronous shutdown runs on, as the coordinator's
    ``abandoned_threads`` lists it: like a daemon :class:`threading.Thread`, it never holds up
    the process's exit.

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


class Waits:
    """One run's bounded waits, and what they abandoned.

    :param clock: the run's clock: bounds and graces are measured on it (a worker thread's
        bound excepted, which is real time; a virtual clock is paused meanwhile).
    :param on_cancelled: called when the run's own task is cancelled from outside during a wait;
        the wait still runs to its bound (the run re-raises the cancellation at the end).
    """

    def __init__(self, clock: Clock, on_cancelled: Callable[[], None]) -> None:
        self._clock = clock
        self._on_cancelled = on_cancelled
        #: Tasks cancelled that ignored it, left running on the loop.
        self.abandoned: list[asyncio.Task[Any]] = []
        #: Worker threads whose shutdown overran its timeout, still running.
        self.abandoned_threads: list[WorkerThread] = []

    async def race(self, task: asyncio.Future[Any], seconds: float) -> bool:
        """Wait for ``task`` up to ``seconds`` on the clock; whether it is done.

        Cancellation from outside does not cut the wait short (the wait is bounded anyway).
        """
        timer = asyncio.ensure_future(self._clock.sleep(seconds))
        try:
            while not (task.done() or timer.done()):
                try:
                    await asyncio.wait([task, timer], return_when=asyncio.FIRST_COMPLETED)
                except asyncio.CancelledError:
                    self._on_cancelled()
        finally:
            timer.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await asyncio.gather(timer, return_exceptions=True)
        return task.done()

    async def shut_down(self, daemon: StartedDaemon) -> str | None:
        """Call the shutdown; ``None``, or why it did not finish in time. Its error propagates.

        A coroutine function is called on the loop and awaited, bounded on the clock. Anything
        else is called on a worker thread, bounded in real time (a thread's time is real
        whatever the clock; a virtual clock is paused meanwhile): code the coordinator cannot
        interrupt can only be bounded from another thread.
        """
        name, shutdown, timeout = daemon.name, daemon.shutdown, daemon.shutdown_timeout
        if is_async(shutdown):
            coroutine = shutdown()
            assert coroutine is not None  # a coroutine function's call is a coroutine
            return await self.bounded(name, guarded(coroutine), timeout)
        started = time.monotonic()
        finished, result = await self.in_thread(name, shutdown, timeout)
        if not finished:
            return (
                f"shutdown did not return within {timeout:g} s; abandoned, still running on "
                "its worker thread"
            )
        if result is not None and inspect.isawaitable(result):
            remaining = max(timeout - (time.monotonic() - started), 0.0)
            return await self.bounded(name, guarded(result), remaining)
        return None

    async def in_thread(
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
                    self._on_cancelled()
        if not done.done():
            done.cancel()
            self.abandoned_threads.append(thread)
            return False, None
        return True, done.result()

    async def bounded(self, name: str, awaitable: Awaitable[object], timeout: float) -> str | None:
        """Await ``awaitable`` for up to ``timeout`` clock seconds; ``None``, or why it timed out.

        Its own exception propagates. Timing out cancels it; if it will not even unwind within a
        grace period, it is left running and listed in :attr:`abandoned`.
        """
        task = asyncio.ensure_future(awaitable)
        task.set_name(f"shutdown:{name}")
        if await self.race(task, timeout):
            if task.cancelled():
                return "shutdown cancelled itself"
            task.result()  # re-raises the shutdown's own exception
            return None
        task.cancel()
        if await self.race(task, CANCEL_GRACE):
            if not task.cancelled():
                task.exception()  # retrieved: it failed while unwinding, which changes nothing
            return f"shutdown did not finish within {timeout:g} s and was cancelled"
        self.abandoned.append(task)
        return (
            f"shutdown did not finish within {timeout:g} s and ignored cancellation; "
            "abandoned while still running"
        )


def close_loop(loop: asyncio.AbstractEventLoop, grace: float) -> None:
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
