"""Periodic fires: what a coordinator's driver does, and how code under it knows.

A driver sleeps one interval on the run's clock, then calls the task's callback (awaiting what
it returns), for ever. Around each call, :data:`current_fire` names the :class:`Fire` in
progress, so code running under a driver can tell which task it serves and an observer can tell
a call made by the coordinator from one a daemon makes itself.
"""

from __future__ import annotations

import asyncio
import contextlib
import contextvars
import dataclasses
import inspect
import logging
from collections.abc import Awaitable, Callable
from typing import Final, Literal

from ._clock import Clock, VirtualClock
from ._daemons import PeriodicTaskSpec, ShutdownCallable
from ._timeline import EventKind, Recorder, describe

__all__ = ["Fire", "StartedDaemon", "current_fire", "drive"]

_log = logging.getLogger("reference_runtime.daemons")


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


def _loop_running() -> bool:
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return False
    return True


async def drive(
    owner: str,
    spec: PeriodicTaskSpec,
    side: Literal["daemon", "listener"],
    *,
    clock: Clock,
    counts: dict[str, int],
    recorder: Recorder,
    record_fires: bool,
    escape: Callable[[BaseException, str], None],
) -> None:
    """Fire ``spec`` every interval on ``clock`` until cancelled.

    Each call counts in ``counts[spec.name]`` (raising or not). An :class:`Exception` from the
    callback is logged and recorded, and the next interval fires as usual; a process-level one
    (``SystemExit``, ``KeyboardInterrupt``, ``GeneratorExit``) is handed to ``escape`` and ends
    this driver.

    :param record_fires: record a ``FIRE_OK`` event per successful fire.
    """
    callback, interval, name = spec.callback, spec.interval_seconds, spec.name
    counts.setdefault(name, 0)
    number = 0
    sleeper: Callable[[float], Awaitable[None]] = clock.sleep
    if isinstance(clock, VirtualClock) and getattr(sleeper, "__func__", None) is VirtualClock.sleep:
        # What VirtualClock.sleep awaits, awaited directly (unless sleep is overridden, on the
        # class or the instance): no coroutine per fire.
        sleeper = clock._sleeper
    while True:
        await sleeper(interval)
        counts[name] += 1
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
                describe(exc),
                exc_info=exc,
            )
            recorder.record(EventKind.FIRE_FAILED, daemon=owner, task=name, detail=describe(exc))
        except (KeyboardInterrupt, SystemExit, GeneratorExit) as exc:
            if isinstance(exc, GeneratorExit) and not _loop_running():
                raise  # this driver's coroutine is being closed, not failing
            _log.error(
                "periodic task %r of %r raised %s: a fatal failure, the run stops",
                name,
                owner,
                describe(exc),
                exc_info=exc,
            )
            recorder.record(EventKind.FIRE_FAILED, daemon=owner, task=name, detail=describe(exc))
            escape(exc, f"{type(exc).__name__} from periodic task {name!r}")
            return
        else:
            if record_fires:
                recorder.record(EventKind.FIRE_OK, daemon=owner, task=name)
        finally:
            fire.running = False
            # A driver closed from outside its task (the loop is gone) has another context.
            with contextlib.suppress(ValueError):
                current_fire.reset(token)
