"""A wall-clock budget for running a plugin's code, and where it blocked when it overran.

Virtual time makes hours of a plugin's schedule cost milliseconds, but the plugin's code can
still block the event loop for real (``time.sleep``, blocking I/O, a busy loop). Code run under
:func:`watchdog` is interrupted after its budget (``SIGALRM``, when running in the main thread)
and the :class:`Watch` says in which function of the plugin it was.
"""

from __future__ import annotations

import asyncio
import dataclasses
import importlib.util
import signal
import sysconfig
import threading
import time
import types
from collections.abc import Coroutine, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any, Final

import reference_runtime
from kora_conformance.model._suites import suites_dir

__all__ = ["WALL_BUDGET", "Overran", "Watch", "run_and_close", "wall_seconds", "watchdog"]

#: Wall-clock seconds a run may take, by default, before the kit interrupts the code blocking it.
WALL_BUDGET: Final = 2.0


def _package_dir(name: str) -> Path | None:
    spec = importlib.util.find_spec(name)
    return Path(spec.origin).parent if spec is not None and spec.origin else None


# Code that is never the plugin's: where a blocked run was interrupted is reported outside it.
_LIBRARY_CODE: Final = tuple(
    str(Path(p).resolve())
    for p in (
        sysconfig.get_paths()["stdlib"],
        Path(reference_runtime.__file__).parent,
        *(_package_dir(name) for name in ("freezegun", "_pytest", "pluggy")),
    )
    if p is not None
)
_KIT_DIR: Final = Path(__file__).resolve().parents[1]
# The kit's own code: the package and its suites (beside the package in a source checkout).
_KIT_CODE: Final = (str(_KIT_DIR), str(suites_dir().resolve()))
#: Plugins shipped inside the kit's package (mutants, probes) are plugin code all the same.
_KIT_PLUGINS: Final = (str(_KIT_DIR / "mutants"), str(_KIT_DIR / "probes"))


class Overran(KeyboardInterrupt):
    """Raised by the watchdog into code that blocks the event loop.

    A ``KeyboardInterrupt`` so that neither the coordinator's ``except Exception`` nor asyncio's
    task machinery swallows it: it ends the run wherever it lands.
    """


@dataclasses.dataclass
class Watch:
    """What the watchdog saw of one block: its budget, its wall time, where it was interrupted.

    :param budget: wall-clock seconds the block may take.
    """

    budget: float
    elapsed: float = 0.0
    #: The plugin's function (``function (file:line)``) that was running when interrupted.
    interrupted: str | None = None

    @property
    def overran(self) -> bool:
        """The block was interrupted, or took longer than its budget."""
        return self.interrupted is not None or self.elapsed > self.budget

    def describe(self) -> str:
        """The overrun, for a check's report."""
        where = self.interrupted or "nowhere in particular (it was merely slow)"
        return (
            f"the run took more than {self.budget:g} s of wall-clock time and was interrupted "
            f"in {where}: something blocks the event loop (a real time.sleep, blocking I/O, a "
            "busy loop, or an await on real time)"
        )


def _is_plugin_code(filename: str) -> bool:
    if filename.startswith("<"):
        return False
    path = str(Path(filename).resolve())
    if path.startswith(_KIT_PLUGINS):
        return True
    return not path.startswith(_LIBRARY_CODE) and not path.startswith(_KIT_CODE)


def _where(frame: types.FrameType | None) -> str:
    """The innermost frame of the plugin's own code, as ``function (file:line)``.

    The walk ends at :func:`run_and_close`: what called it is the kit, never the plugin.
    """
    current = frame
    while current is not None and current.f_code.co_filename != __file__:
        if _is_plugin_code(current.f_code.co_filename):
            name = getattr(current.f_code, "co_qualname", current.f_code.co_name)
            return f"{name} ({current.f_code.co_filename}:{current.f_lineno})"
        current = current.f_back
    return "the event loop, waiting on real time"


# Held in a tuple: freezegun replaces module attributes that are the real time functions, so a
# plain ``time.perf_counter`` would read the moved wall clock during a virtual run.
_REAL_PERF_COUNTER: Final = (time.perf_counter,)


def wall_seconds() -> float:
    """Real elapsed seconds, even while the wall clock is moved in virtual time."""
    return _REAL_PERF_COUNTER[0]()


@contextmanager
def watchdog(budget: float = WALL_BUDGET) -> Iterator[Watch]:
    """Measure the block's wall time; interrupt it after ``budget`` seconds where possible.

    The interrupt (:class:`Overran`) ends the block and is not propagated; read the
    :class:`Watch` afterwards.
    """
    watch = Watch(budget)
    armed = hasattr(signal, "setitimer") and threading.current_thread() is threading.main_thread()
    previous: Any = None
    outer: tuple[float, float] = (0.0, 0.0)
    # Set once the block has ended: a tick that was already due then is ignored, not raised
    # into the kit's (or pytest's) own code.
    disarmed = False
    if armed:

        def interrupt(signum: int, frame: types.FrameType | None) -> None:
            if disarmed:
                return
            if watch.interrupted is None:
                watch.interrupted = _where(frame)
            raise Overran

        previous = signal.signal(signal.SIGALRM, interrupt)
        # Repeats, in case the plugin's code swallows the first interrupt. A timer already set
        # (pytest-timeout's signal method, say) is put back afterwards, less the time spent.
        outer = signal.setitimer(signal.ITIMER_REAL, budget, 0.5)
    started = wall_seconds()
    try:
        try:
            yield watch
        finally:
            # First thing: a tick between the block's end and here raises Overran, which the
            # outer ``except`` takes; any later tick finds the handler disarmed.
            disarmed = True
            if armed:
                signal.setitimer(signal.ITIMER_REAL, 0)
    except Overran:
        if watch.interrupted is None:
            watch.interrupted = "the kit's own code"
    finally:
        watch.elapsed = wall_seconds() - started
        if armed:
            signal.signal(signal.SIGALRM, previous)
            if outer[0] > 0:
                signal.setitimer(signal.ITIMER_REAL, max(outer[0] - watch.elapsed, 0.001), outer[1])


def run_and_close(main: Coroutine[Any, Any, Any]) -> None:
    """``asyncio.run(main)``; if an interrupt left ``main`` suspended, close it so its cleanup
    (the coordinator's ``with clock:``, which stops the moved wall clock) still happens."""
    try:
        asyncio.run(main)
    finally:
        main.close()
