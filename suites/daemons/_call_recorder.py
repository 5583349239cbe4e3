"""Which of the coordinator's drivers ran a periodic callback, recorded during a virtual run.

The recorder watches, with ``sys.setprofile``, every call of the drivers' callbacks' code, so a
callback wrapped in a lambda, a named function or ``functools.partial`` on the other side, or run
by a loop a daemon keeps itself, is seen for what it is. Which fire (if any) a call belongs to is
read from the coordinator's public :data:`reference_runtime.current_fire`, set around each call
of a periodic callback: nothing here depends on how the coordinator's code is written.
"""

from __future__ import annotations

import dataclasses
import inspect
import sys
import types
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import Final

from kora_conformance.harness import CallbackKey, Driver, callback_key
from reference_runtime import Fire, VirtualClock, current_fire

__all__ = ["Call", "CallRecorder"]

_GENERATOR_FLAGS: Final = (
    inspect.CO_COROUTINE
    | inspect.CO_GENERATOR
    | inspect.CO_ASYNC_GENERATOR
    | inspect.CO_ITERABLE_COROUTINE
)


@dataclasses.dataclass
class Call:
    """One call of a watched callback."""

    at: float
    #: The driver whose fire made the call; ``None``: made outside any fire of the coordinator
    #: (a daemon's startup, a loop of its own, a shutdown).
    driver: Driver | None
    #: Made from inside another callback's code during the fire (a named function between the
    #: fire's callback and this one: another task's own work), not by the fire's callback itself
    #: or through a lambda or partial standing in for it.
    nested: bool
    #: The fire number of its driver (``0`` outside any fire).
    fire: int = 0


class CallRecorder:
    """Records, with ``sys.setprofile``, each time a watched callback starts running: the virtual
    time, and the coordinator's fire it belongs to (:data:`reference_runtime.current_fire`).

    :param drivers: the drivers whose callbacks are watched.
    :param clock: the run's clock, read for each call's time.
    """

    def __init__(self, drivers: Sequence[Driver], clock: VirtualClock) -> None:
        self._clock = clock
        self._by_spec = {id(d.spec): d for d in drivers}
        self._keys: dict[types.CodeType, list[CallbackKey]] = {}
        for driver in drivers:
            key = callback_key(driver.spec.callback)
            if key is not None and key not in self._keys.get(key.code, []):
                self._keys.setdefault(key.code, []).append(key)
        #: Each watched callback's calls, in order.
        self.calls: dict[CallbackKey, list[Call]] = {}
        self._resumable: list[types.FrameType] = []  # kept alive so their ids stay unique
        self._seen: set[int] = set()

    def _attribute(self, frame: types.FrameType, fire: Fire | None) -> tuple[Driver | None, bool]:
        """The driver of the fire in progress, and whether the call is nested in other work."""
        if fire is None or not fire.running:
            return None, False  # a task spawned by an earlier fire: the daemon's own work
        driver = self._by_spec.get(id(fire.spec))
        own = callback_key(fire.spec.callback)
        if own is None or frame.f_code is own.code:
            return driver, False
        # Up the stack to the fire's own callback: only lambdas between keep the call the
        # fire's; a named function between makes it that function's own work.
        caller, thin = frame.f_back, True
        for _ in range(64):
            if caller is None:
                break
            if caller.f_code is own.code:
                return driver, not (thin and caller.f_code.co_name == "<lambda>")
            if caller.f_code.co_name != "<lambda>":
                thin = False
            caller = caller.f_back
        # The fire's callback is not on the stack: it returned an awaitable the driver awaits
        # (a lambda returning a coroutine), so the call is the fire's own.
        return driver, False

    def _profile(self, frame: types.FrameType, event: str, arg: object) -> None:
        if event != "call":
            return
        keys = self._keys.get(frame.f_code)
        if keys is None:
            return
        code = frame.f_code
        if code.co_flags & _GENERATOR_FLAGS:
            if id(frame) in self._seen:
                return  # a coroutine resuming, not a new call
            self._seen.add(id(frame))
            self._resumable.append(frame)
        instance = None
        if code.co_argcount:
            instance = id(frame.f_locals.get(code.co_varnames[0]))
        key = next((k for k in keys if k.instance is None or k.instance == instance), None)
        if key is None:
            return
        fire = current_fire.get()
        driver, nested = self._attribute(frame, fire)
        number = fire.number if fire is not None and driver is not None else 0
        self.calls.setdefault(key, []).append(Call(self._clock.now(), driver, nested, number))

    @contextmanager
    def recording(self) -> Iterator[None]:
        """Record calls during the block."""
        previous = sys.getprofile()
        sys.setprofile(self._profile)
        try:
            yield
        finally:
            try:
                sys.setprofile(previous)
            except TypeError:  # a C profiler (cProfile) cannot be put back from Python
                sys.setprofile(None)
            self._resumable.clear()
