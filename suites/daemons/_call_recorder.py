"""Which of the coordinator's drivers ran a periodic callback, recorded during a virtual run.

The recorder watches, with ``sys.setprofile``, every call of the drivers' callbacks' code, so a
callback wrapped in a lambda or ``functools.partial`` on the other side, or run by a loop a
listener keeps itself, is seen for what it is and attributed to the driver it came from.
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
from reference_runtime import Coordinator, VirtualClock

__all__ = ["Call", "CallRecorder"]

_GENERATOR_FLAGS: Final = (
    inspect.CO_COROUTINE
    | inspect.CO_GENERATOR
    | inspect.CO_ASYNC_GENERATOR
    | inspect.CO_ITERABLE_COROUTINE
)
_DRIVE_CODE: Final = Coordinator._drive.__code__


@dataclasses.dataclass
class Call:
    """One call of a watched callback."""

    at: float
    driver: Driver | None  # None: not directly under a coordinator driver
    nested: bool  # called by a named function under a driver (another task's own work)


class CallRecorder:
    """Records, with ``sys.setprofile``, each time a watched callback starts running, the virtual
    time and which driver ran it. A driver "runs" a callback when only lambdas (or
    ``functools.partial``, which has no frame) stand between them.

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

    def _attribute(self, frame: types.FrameType) -> tuple[Driver | None, bool]:
        caller, thin = frame.f_back, True
        for _ in range(64):
            if caller is None:
                break
            if caller.f_code is _DRIVE_CODE:
                return self._by_spec.get(id(caller.f_locals.get("spec"))), not thin
            if caller.f_code.co_name != "<lambda>":
                thin = False
            caller = caller.f_back
        return None, False

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
        driver, nested = self._attribute(frame)
        self.calls.setdefault(key, []).append(Call(self._clock.now(), driver, nested))

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
