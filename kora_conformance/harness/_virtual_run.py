"""Virtual-time runs of a plugin's daemons under the reference coordinator, within a watchdog.

:func:`virtual_run` drives the daemons a fresh runtime holds on a
:class:`~reference_runtime.VirtualClock` (optionally with the wall clock moved in step), so hours
of schedule cost milliseconds whatever the intervals are: a few intervals of the longest task,
fewer when that would pass :data:`FIRE_BUDGET` fires. The run is guarded by a
:func:`~kora_conformance.harness.watchdog` whose budget grows with the fires expected, so a
long run is not taken for a blocked one.

The runtime's entries must be well formed (contract 3.1): a malformed interval would make a
run spin at one instant for ever. :func:`call_startups` calls startups on their own, in each of
the forms a consumer uses, on a virtual clock and under the watchdog too.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import inspect
import math
from collections import Counter
from collections.abc import Callable, Iterator, Sequence
from typing import Any, Final, Literal

from kora_conformance.harness._registrations import Lifecycle
from kora_conformance.harness._watchdog import (
    WALL_BUDGET,
    Overran,
    Watch,
    run_and_close,
    wall_seconds,
    watchdog,
)
from reference_runtime import (
    Coordinator,
    EventKind,
    PeriodicTaskSpec,
    Runtime,
    TimelineEvent,
    VirtualClock,
)

__all__ = [
    "AGAIN",
    "CYCLES",
    "FIRE_BUDGET",
    "IDLE_RUN",
    "RECORDED_FIRE_BUDGET",
    "RECORDED_WALL_PER_FIRE",
    "STARTUP_FORMS",
    "STARTUP_WAIT",
    "WALL_PER_FIRE",
    "Driver",
    "SpawnedTaskError",
    "VirtualRun",
    "call_startups",
    "drivers_of",
    "fire_count",
    "horizon_for",
    "recorded_horizon",
    "virtual_run",
]

#: How many intervals of the longest task a virtual run covers, when the fire budget allows.
CYCLES: Final = 3
#: The most periodic fires a virtual run may cost; fewer cycles are run past it (at least one).
FIRE_BUDGET: Final = 10_000
#: Wall-clock seconds per periodic fire the run is expected to make, on top of
#: :data:`~kora_conformance.harness._watchdog.WALL_BUDGET` (a fire costs ~20 µs), so that a long run
#: over the fire budget is not mistaken for a blocked one.
WALL_PER_FIRE: Final = 1e-4
#: Wall-clock seconds per fire when every call is recorded (``sys.setprofile`` sees every Python
#: call of the run, which costs about ten times a bare fire).
RECORDED_WALL_PER_FIRE: Final = 1e-3
#: The most periodic fires a recorded run may cost: its horizon is shortened past it.
RECORDED_FIRE_BUDGET: Final = 2_000
#: Virtual seconds of a run for daemons that have no periodic task.
IDLE_RUN: Final = 60.0
#: Virtual seconds :func:`call_startups` waits for one ``startup`` call to finish before moving on.
STARTUP_WAIT: Final = 60.0
#: The three ways a consumer calls ``startup``: (how it reads, positional args, keyword args).
#: The outcome key of the first form called once more, after the others (see ``_call_forms``).
AGAIN: Final = "startup(coordinator), again"
STARTUP_FORMS: Final = (
    ("startup(coordinator)", True, False),
    ("startup(coordinator=coordinator)", False, True),
    ("startup()", False, False),
)


@dataclasses.dataclass(frozen=True)
class Driver:
    """A periodic task the coordinator drives: its spec, owner and side."""

    owner: str
    spec: PeriodicTaskSpec
    side: Literal["daemon", "listener"]

    @property
    def label(self) -> str:
        """The task, its owner and its interval, for a check's report."""
        where = "the entry of" if self.side == "daemon" else "the listener side of"
        owner = f"{where} {self.owner!r}" if self.owner else "the listener side"
        return f"task {self.spec.name!r} ({owner}, every {self.spec.interval_seconds:g} s)"


def drivers_of(runtime: Runtime, started: set[str] | None = None) -> list[Driver]:
    """The periodic tasks the coordinator schedules (contract 3.3), in its order.

    Entries' tasks first, then listener-side tasks whose listener started, except a task whose
    callback an earlier one already has: a task known to both sides is scheduled once.

    :param started: the daemons and listeners whose startup succeeded; all of them by default.
    """
    # The reference coordinator's own plan, so that this cannot drift from what it schedules.
    planner = Coordinator(runtime.daemons.list_entries(), runtime.listeners, handle_signals=False)
    return [Driver(*task) for task in planner.planned_tasks(started)]


def fire_count(horizon: float, interval: float) -> int:
    """How often a task every ``interval`` seconds fires in ``horizon`` seconds."""
    return math.floor(horizon / interval)


def horizon_for(
    intervals: Sequence[float], every: Sequence[float], *, budget: int = FIRE_BUDGET
) -> float:
    """Virtual seconds to run: :data:`CYCLES` intervals of the longest of ``intervals`` (fewer if
    the fires of ``every`` task would pass ``budget``), plus half the shortest interval so that
    no fire is due exactly at the end."""
    if not intervals:
        return IDLE_RUN
    longest, margin = max(intervals), min(every) / 2
    for cycles in range(CYCLES, 0, -1):
        seconds = cycles * longest + margin
        if sum(fire_count(seconds, i) for i in every) <= budget:
            return seconds
    return longest + margin


def recorded_horizon(every: Sequence[float]) -> float:
    """Virtual seconds for a run whose every call is recorded: :func:`horizon_for` over
    ``every``, shortened (to whole intervals of the shortest task, plus half of one) until its
    fires stay within :data:`RECORDED_FIRE_BUDGET`; at least two intervals of the shortest."""
    seconds = horizon_for(every, every, budget=RECORDED_FIRE_BUDGET)
    if not every or sum(fire_count(seconds, i) for i in every) <= RECORDED_FIRE_BUDGET:
        return seconds
    shortest = min(every)
    per_cycle = sum(shortest / i for i in every)  # fires per interval of the shortest task
    cycles = max(2, math.floor(RECORDED_FIRE_BUDGET / per_cycle))
    return cycles * shortest + shortest / 2


@dataclasses.dataclass
class VirtualRun:
    """How a virtual run went: the coordinator (with its timeline), its length, the watch."""

    coordinator: Coordinator
    horizon: float
    watch: Watch
    #: What ended the run early, raised from the plugin's daemons (``SystemExit``, say).
    error: BaseException | None = None
    #: Each timeline event with the real (wall-clock) seconds since the run began when it was
    #: recorded: virtual time stands still while plugin code blocks, wall time does not.
    wall: list[tuple[TimelineEvent, float]] = dataclasses.field(default_factory=list)

    def shutdown_wall_times(self) -> list[tuple[str, float]]:
        """Each daemon's shutdown and the wall-clock seconds it took, in shutdown order: from
        the end of the previous stop step (the drivers' cancellation, or the previous shutdown)
        to its own outcome event."""
        stop_kinds = {
            EventKind.DRIVERS_CANCELLED,
            EventKind.SHUTDOWN_OK,
            EventKind.SHUTDOWN_TIMEOUT,
            EventKind.SHUTDOWN_FAILED,
        }
        took: list[tuple[str, float]] = []
        previous: float | None = None
        for event, at in self.wall:
            if event.kind is EventKind.SHUTDOWN_REQUESTED and previous is None:
                previous = at
            elif event.kind in stop_kinds:
                if event.kind is not EventKind.DRIVERS_CANCELLED and previous is not None:
                    took.append((event.daemon, at - previous))
                previous = at
        return took

    def events(self, *kinds: EventKind) -> list[TimelineEvent]:
        """The run's timeline events of ``kinds``, in order."""
        return [event for event in self.coordinator.timeline if event.kind in kinds]

    def summary(self) -> str:
        """The run in one line: its length, its cost, the fires and events it saw."""
        counts = ", ".join(f"{k}={v}" for k, v in self.coordinator.fire_counts().items())
        kinds = Counter(e.kind.value for e in self.coordinator.timeline)
        return (
            f"virtual run of {self.horizon:g} s in {self.watch.elapsed:.3f} s wall time; "
            f"fires: {counts or 'none'}; events: {dict(kinds)}"
        )


def virtual_run(
    runtime: Runtime,
    seconds: float,
    *,
    around: Callable[[VirtualClock], Any] | None = None,
    wall_clock: bool = True,
    per_fire: float = WALL_PER_FIRE,
) -> VirtualRun:
    """Run the daemons ``runtime`` holds for ``seconds`` virtual seconds under its coordinator.

    :param around: called with the clock; returns a context manager held around the run.
    :param wall_clock: move ``time.time()`` and friends in step with the virtual clock.
    :param per_fire: wall-clock seconds of budget per expected fire (see
        :data:`RECORDED_WALL_PER_FIRE` for a run whose every call is recorded).
    """
    clock = VirtualClock(wall_clock=wall_clock)
    wall: list[tuple[TimelineEvent, float]] = []
    started = wall_seconds()

    def stamp(event: TimelineEvent) -> None:
        wall.append((event, wall_seconds() - started))

    coordinator = runtime.coordinator(clock=clock, on_event=stamp)
    expected = sum(fire_count(seconds, d.spec.interval_seconds) for d in drivers_of(runtime))
    budget = WALL_BUDGET + expected * per_fire
    outcome = VirtualRun(coordinator, seconds, Watch(budget), wall=wall)
    # Entered first, the clock moves the wall clock (patching every module, which takes a
    # while) before the budget starts and before ``around`` starts watching.
    watching = around(clock) if around is not None else contextlib.nullcontext()
    with clock, watching, watchdog(budget) as outcome.watch:
        try:
            run_and_close(coordinator.run(until=seconds))
        except Overran:
            raise
        except BaseException as exc:  # noqa: BLE001 - SystemExit from a callback is a finding
            outcome.error = exc
    return outcome


async def _settle(result: object, clock: VirtualClock, seconds: float) -> None:
    """Await ``result`` if awaitable, for at most ``seconds`` of virtual time; its exception
    propagates, a timeout cancels it quietly."""
    if result is None or not inspect.isawaitable(result):
        return
    task = asyncio.ensure_future(result)
    timer = asyncio.ensure_future(clock.sleep(seconds))
    await asyncio.wait([task, timer], return_when=asyncio.FIRST_COMPLETED)
    for future in (task, timer):
        future.cancel()
    await asyncio.gather(task, timer, return_exceptions=True)
    if not task.cancelled() and (error := task.exception()) is not None:
        raise error


async def _call_forms(
    lifecycle: Lifecycle, forms: Sequence[str], coordinator: Coordinator, clock: VirtualClock
) -> dict[str, BaseException | None]:
    """Call the startup in each of ``forms`` (then its shutdown); what each call raised."""
    outcomes: dict[str, BaseException | None] = {}

    async def start(form: str, positional: bool, keyword: bool) -> BaseException | None:
        args = (coordinator,) if positional else ()
        kwargs = {"coordinator": coordinator} if keyword else {}
        error: BaseException | None = None
        with _spawned() as spawned:
            try:
                await _settle(lifecycle.startup(*args, **kwargs), clock, STARTUP_WAIT)
                # Give the tasks the startup spawned their first steps: one that needs the
                # coordinator fails there, out of sight of the startup's own result.
                for _ in range(_FIRST_STEPS):
                    await asyncio.sleep(0)
            except Exception as exc:  # noqa: BLE001 - the plugin's error is the finding
                error = exc
        if error is None:
            error = next((e for e in _task_errors(spawned)), None)
        # Only resetting state between the forms: KC-DM-005 judges shutdowns.
        with contextlib.suppress(Exception):
            await _settle(lifecycle.shutdown(), clock, lifecycle.shutdown_timeout)
        return error

    for form, positional, keyword in STARTUP_FORMS:
        if form in forms:
            outcomes[form] = await start(form, positional, keyword)
    first, positional, keyword = STARTUP_FORMS[0]
    restarted_badly = [
        e for f, e in outcomes.items() if f != first and e is not None and type(e) is not TypeError
    ]
    if outcomes.get(first, True) is None and restarted_badly:
        # A later form failed where the first one returned: was it the form, or only that the
        # daemon was started again (a one-shot daemon is legitimate)? The first form, once
        # more, tells them apart.
        outcomes[AGAIN] = await start(first, positional, keyword)
    return outcomes


#: Event-loop steps the tasks a startup spawned get before its form is judged.
_FIRST_STEPS: Final = 3


class SpawnedTaskError(Exception):
    """A task a startup spawned failed: the startup returned, its own work did not start."""


@contextlib.contextmanager
def _spawned() -> Iterator[list[asyncio.Task[Any]]]:
    """The tasks created on the running loop during the block (through its task factory)."""
    loop = asyncio.get_running_loop()
    previous = loop.get_task_factory()
    tasks: list[asyncio.Task[Any]] = []

    def factory(loop: asyncio.AbstractEventLoop, coro: Any, **options: Any) -> asyncio.Future[Any]:
        task = (
            previous(loop, coro, **options)
            if previous is not None
            else asyncio.Task(coro, loop=loop, **options)
        )
        if isinstance(task, asyncio.Task):
            tasks.append(task)
        return task

    loop.set_task_factory(factory)
    try:
        yield tasks
    finally:
        loop.set_task_factory(previous)


def _task_errors(tasks: Sequence[asyncio.Task[Any]]) -> list[BaseException]:
    """The errors of the tasks that ended with one (cancellation aside), as
    :class:`SpawnedTaskError` naming the task."""
    errors: list[BaseException] = []
    for task in tasks:
        if task.done() and not task.cancelled() and (error := task.exception()) is not None:
            name = getattr(task.get_coro(), "__qualname__", task.get_name())
            errors.append(
                SpawnedTaskError(
                    f"the task it spawned ({name}) raised {type(error).__name__}: {error}"
                )
            )
    return errors


def call_startups(
    runtime: Runtime, plan: Sequence[tuple[Lifecycle, Sequence[str]]]
) -> tuple[Watch, list[dict[str, BaseException | None]]]:
    """Call each startup of ``plan`` in each of its forms of :data:`STARTUP_FORMS`, then its
    shutdown, with ``runtime``'s coordinator on a virtual clock, under the watchdog.

    :returns: the watch, and for each lifecycle what each form's call raised (``None``: it
        returned), as far as the run got.
    """
    clock = VirtualClock()
    coordinator = runtime.coordinator(clock=clock)
    results: list[dict[str, BaseException | None]] = []

    async def call_all() -> None:
        for lifecycle, forms in plan:
            results.append(await _call_forms(lifecycle, forms, coordinator, clock))

    with watchdog() as watch:
        run_and_close(call_all())
    return watch, results
