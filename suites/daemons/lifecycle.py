"""KC-DM-005: the lifecycle in virtual time under the reference coordinator (contract 3.3).

The plugin's daemons run on a :class:`~reference_runtime.VirtualClock` with the wall clock moved
in step, under a wall-clock watchdog that interrupts code blocking the event loop and reports
where it was (:func:`kora_conformance.harness.virtual_run`). Every call of a periodic callback is
recorded with the coordinator's fire it belongs to, if any
(:mod:`._call_recorder`), so a daemon that runs its task itself is seen; every
timeline event is stamped in wall time too, so a shutdown that blocks for real is seen although
virtual time stood still. A second run, by a second coordinator in the same process, must go
as the first did.
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import Final

from kora_conformance import CheckContext, Suite, needs_daemons
from kora_conformance.harness import (
    RECORDED_WALL_PER_FIRE,
    CallbackKey,
    Driver,
    Registered,
    VirtualRun,
    callback_key,
    drivers_of,
    fire_count,
    horizon_for,
    lifecycles,
    recorded_horizon,
    registered_alone,
    virtual_run,
)
from kora_conformance.suites.daemons._call_recorder import CallRecorder
from kora_conformance.suites.daemons._malformed import skip_if_malformed
from reference_runtime import EventKind, VirtualClock, describe_callable

suite = Suite("daemon lifecycle")

#: Wall-clock seconds a shutdown may take beyond its timeout before it is judged to block:
#: room for a loaded machine, far below any real sleep worth noticing.
WALL_SLACK: Final = 0.25


def _fire_problems(outcome: VirtualRun, drivers: Sequence[Driver]) -> list[str]:
    coordinator, horizon = outcome.coordinator, outcome.horizon
    expected: Counter[str] = Counter()
    intervals: dict[str, float] = {}
    for driver in drivers:
        expected[driver.spec.name] += fire_count(horizon, driver.spec.interval_seconds)
        intervals[driver.spec.name] = min(
            intervals.get(driver.spec.name, math.inf), driver.spec.interval_seconds
        )
    counts = coordinator.fire_counts()
    problems = []
    for name, n in expected.items():
        seen = counts.get(name, 0)
        if seen != n:
            fires = [
                e
                for e in outcome.events(EventKind.FIRE_OK, EventKind.FIRE_FAILED)
                if e.task == name
            ]
            failed = [e for e in fires if e.kind is EventKind.FIRE_FAILED]
            why = f"; its last failure: {failed[-1].detail}" if failed else ""
            if seen < n and fires and fires[-1].at < horizon - 2 * intervals[name]:
                why += (
                    f"; it stopped firing after t={fires[-1].at:g} s (a callback that never "
                    "returns, or lets a BaseException such as CancelledError escape, ends its "
                    "driver)"
                )
            elif seen < n:
                why += "; a callback that awaits time of its own delays its driver"
            problems.append(
                f"task {name!r} (every {intervals[name]:g} s) fired {seen} times in "
                f"{horizon:g} s, expected {n}{why}"
            )
    for event in outcome.events(EventKind.FIRE_OK, EventKind.FIRE_FAILED):
        interval = intervals.get(event.task)
        if interval is not None and event.at < interval - 1e-9:
            problems.append(f"task {event.task!r} fired at t={event.at:g} s, before one interval")
            break
    return problems


def _lifecycle_problems(outcome: VirtualRun) -> list[str]:
    coordinator = outcome.coordinator
    problems = [
        f"startup of {e.daemon!r} raised {e.detail}" + (" (fatal)" if e.fatal else "")
        for e in outcome.events(EventKind.STARTUP_FAILED)
    ]
    if coordinator.exit_status != 0 and not problems:
        problems.append(f"the run exited with status {coordinator.exit_status}")
    problems += [
        f"shutdown of {e.daemon!r}: {e.detail}"
        for e in outcome.events(EventKind.SHUTDOWN_TIMEOUT, EventKind.SHUTDOWN_FAILED)
    ]
    started = [e.daemon for e in outcome.events(EventKind.STARTUP_OK)]
    stopped = {e.daemon for e in coordinator.timeline if e.kind.value.startswith("shutdown_")}
    problems += [
        f"{name!r} started but was never shut down" for name in started if name not in stopped
    ]
    if coordinator.abandoned:
        problems.append(
            f"{len(coordinator.abandoned)} shutdown(s) ignored cancellation and were left running"
        )
    return problems


def _blocking_problems(outcome: VirtualRun, timeouts: dict[str, float]) -> list[str]:
    """Shutdowns that took longer in wall time than their timeout allows (virtual time stands
    still while code blocks the loop, so only the wall clock sees it)."""
    timed_out = {e.daemon for e in outcome.events(EventKind.SHUTDOWN_TIMEOUT)}
    problems = []
    for name, took in outcome.shutdown_wall_times():
        timeout = timeouts.get(name)
        if timeout is not None and name not in timed_out and took > timeout + WALL_SLACK:
            problems.append(
                f"shutdown of {name!r} took {took:.2f} s of wall-clock time, over its "
                f"shutdown_timeout of {timeout:g} s: it blocks (a real time.sleep, blocking "
                "I/O) instead of awaiting"
            )
    return problems


def _outside_problems(
    outcome: VirtualRun, drivers: Sequence[Driver], recorder: CallRecorder, dual: set[str]
) -> list[str]:
    """Runs of a periodic callback outside the coordinator's fires while the daemons run: from a
    startup (a fire at t=0) or from a loop of the daemon's own (a second schedule). A shutdown
    may run it a last time. A listener's own schedule beside its entry's driver is KC-DM-006's.
    """
    problems = []
    done: set[CallbackKey] = set()
    for driver in drivers:
        key = callback_key(driver.spec.callback)
        if key is None or key in done or (driver.side == "daemon" and driver.owner in dual):
            continue
        done.add(key)
        outside = [
            c for c in recorder.calls.get(key, []) if c.driver is None and c.at < outcome.horizon
        ]
        if not outside:
            continue
        fires = sum(1 for c in recorder.calls.get(key, []) if c.driver is driver)
        at_start = sum(1 for c in outside if c.at == 0)
        where = [f"{at_start} at t=0, from a startup (a fire before one interval)"] * bool(at_start)
        if later := [c.at for c in outside if c.at > 0]:
            where.append(f"{len(later)} from t={min(later):g} s on (a schedule of its own)")
        problems.append(
            f"{describe_callable(driver.spec.callback)}, {driver.label}, ran "
            f"{len(outside)} time(s) outside the coordinator's fires ({'; '.join(where)}) "
            f"beside its driver's {fires} in {outcome.horizon:g} s"
        )
    return problems


def _timeouts(registered: Registered) -> dict[str, float]:
    found = {}
    for lifecycle in lifecycles(registered):
        found[lifecycle.label.split(" ", 1)[1].strip("'")] = lifecycle.shutdown_timeout
    for entry in registered.entries:
        found[entry.name] = entry.shutdown_timeout
    return found


def _recorded_run(registered: Registered) -> tuple[VirtualRun, CallRecorder, list[Driver]]:
    """A second run of the daemons with every call of a periodic callback recorded; the wall
    clock is left alone (moving it costs more than the run, and who calls a callback does not
    depend on it) and the run shortened to what recording can afford."""
    drivers = drivers_of(registered.runtime)
    recorders: list[CallRecorder] = []

    @contextmanager
    def record(clock: VirtualClock) -> Iterator[None]:
        recorders.append(CallRecorder(drivers, clock))
        with recorders[-1].recording():
            yield

    horizon = recorded_horizon([d.spec.interval_seconds for d in drivers])
    outcome = virtual_run(
        registered.runtime,
        horizon,
        around=record,
        wall_clock=False,
        per_fire=RECORDED_WALL_PER_FIRE,
    )
    return outcome, recorders[0], drivers


def _run_problems(outcome: VirtualRun, registered: Registered) -> list[str]:
    if outcome.watch.overran:
        return [outcome.watch.describe()]
    if outcome.error is not None:
        return [
            f"the run was ended by {type(outcome.error).__name__}: {outcome.error} raised "
            "from the plugin's daemons"
        ]
    problems = _lifecycle_problems(outcome)
    started = {e.daemon for e in outcome.events(EventKind.STARTUP_OK)}
    problems += _fire_problems(outcome, drivers_of(registered.runtime, started))
    return problems + _blocking_problems(outcome, _timeouts(registered))


@suite.check("KC-DM-005", applies=needs_daemons)
def lifecycle_in_virtual_time(ctx: CheckContext) -> None:
    """Space: every startup, periodic task and shutdown of both sides, sync or async, raising on
    the first fire or a later one; fires before, at and after one interval, over at least
    three intervals of the longest task (many of the shortest: drift shows); each shutdown's
    duration in virtual and in wall time; a first run and a second run by another coordinator
    in the same process (a daemon that refuses to start twice is legitimate; one that starts
    again must run as before), the second with every run of a task's callback recorded and
    attributed to a coordinator fire or not (from a startup, from a loop of the daemon's own).
    """
    registered = registered_alone(ctx)
    skip_if_malformed(ctx, registered)
    every = [d.spec.interval_seconds for d in drivers_of(registered.runtime)]
    horizon = horizon_for(every, every)
    expected = (
        "startups that complete, each periodic task's callback run once per interval by its "
        "driver from one interval on (raising or not) and by nothing else while the daemons "
        "run, and shutdowns within their timeouts in virtual and in wall time, with exit "
        "status 0, on a first and a second run (contract 3.3)"
    )
    outcome = virtual_run(registered.runtime, horizon)
    detail = outcome.summary()
    if attempts := ctx.sandbox.network.attempts:
        detail += f"\nthe kit blocks the network; {len(attempts)} attempt(s): {', '.join(attempts)}"
    ctx.fail_if(_run_problems(outcome, registered), expected=expected, detail=detail)
    first_started = {e.daemon for e in outcome.events(EventKind.STARTUP_OK)}
    second, recorder, drivers = _recorded_run(registered)
    refused = {e.daemon for e in second.events(EventKind.STARTUP_FAILED)} & first_started
    if refused and not second.watch.overran and second.error is None:
        return  # a one-shot daemon refuses a second start: legitimate, nothing more to compare
    problems = [
        f"on a second run in the same process (a new coordinator, after the first shut down): {p}"
        for p in _run_problems(second, registered)
    ]
    if not second.watch.overran and second.error is None:
        problems += _outside_problems(second, drivers, recorder, set(registered.dual))
    ctx.fail_if(problems, expected=expected, detail=second.summary())
