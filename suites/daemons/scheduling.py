"""KC-DM-006: a periodic task known to both sides runs once per interval (contract 3.2).

The plugin's daemons run under the reference coordinator in virtual time while every call of
the drivers' callbacks is recorded with the fire, and so the driver, it belongs to
(:mod:`._call_recorder`, reading the coordinator's public ``current_fire``).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from typing import Any

from kora_conformance import CheckContext, Suite, needs_daemons
from kora_conformance.harness import (
    RECORDED_WALL_PER_FIRE,
    CallbackKey,
    Driver,
    callback_key,
    drivers_of,
    fire_count,
    horizon_for,
    registered_alone,
    virtual_run,
)
from kora_conformance.suites.daemons._call_recorder import CallRecorder
from kora_conformance.suites.daemons._malformed import skip_if_malformed
from reference_runtime import VirtualClock, describe_callable

suite = Suite("daemon scheduling")


def _wrapped_problems(
    driver: Driver, recorder: CallRecorder, key: CallbackKey, horizon: float, name: str
) -> list[str]:
    """The callback run, on every fire of a driver of the other side at least as frequent, from
    inside that driver's callback (a named wrapper standing in for it): the same task twice.
    A task of its own that uses it less often (an hourly roll-up of five-minute work) is not."""
    problems = []
    nested: dict[Driver, set[int]] = {}
    for call in recorder.calls.get(key, []):
        other = call.driver
        if call.nested and other is not None and other.side != driver.side and call.at > 0:
            nested.setdefault(other, set()).add(call.fire)
    for other, fires in nested.items():
        due = fire_count(horizon, other.spec.interval_seconds)
        if (
            due
            and len(fires) >= due
            and other.spec.interval_seconds <= driver.spec.interval_seconds
        ):
            wrapper = describe_callable(other.spec.callback)
            problems.append(
                f"{name}, {driver.label}, also runs on every fire of {other.label}, "
                f"through {wrapper}: the same task scheduled on both sides"
            )
    return problems


def _double_problems(
    drivers: Sequence[Driver], recorder: CallRecorder, horizon: float, dual: set[str]
) -> list[str]:
    problems = []
    daemon_side = [d for d in drivers if d.side == "daemon"]
    for listener_driver in (d for d in drivers if d.side == "listener"):
        twin = next((d for d in daemon_side if d.spec.name == listener_driver.spec.name), None)
        if twin is not None:
            problems.append(
                f"{listener_driver.label} has the name of {twin.label}: both are scheduled, so "
                f"{twin.spec.name!r} fires twice per interval"
            )
    done: set[CallbackKey] = set()
    for driver in drivers:
        key = callback_key(driver.spec.callback)
        if key is None or key in done:
            continue  # a partial of the same callback: its runs were judged with the first
        done.add(key)
        calls = [c for c in recorder.calls.get(key, []) if 0 < c.at < horizon and not c.nested]
        own = sum(1 for c in calls if c.driver is driver)
        others = Counter(
            c.driver.label for c in calls if c.driver is not None and c.driver.side != driver.side
        )
        outside = sum(1 for c in calls if c.driver is None)
        name = describe_callable(driver.spec.callback)
        for label, n in others.items():
            problems.append(
                f"{name}, {driver.label}, also runs from {label}: {own + n} runs in "
                f"{horizon:g} s of virtual time, {n} of them from the other side"
            )
        problems += _wrapped_problems(driver, recorder, key, horizon, name)
        if outside and driver.side == "daemon" and driver.owner in dual:
            problems.append(
                f"{name}, {driver.label}, also ran {outside} times outside the coordinator's "
                "drivers (a schedule the listener keeps itself?) while its entry's driver ran "
                f"it {own} times in {horizon:g} s"
            )
    return problems


@suite.check("KC-DM-006", applies=needs_daemons)
def no_double_scheduling(ctx: CheckContext) -> None:
    """Space: every task of both sides whose callback (through bound methods, partials,
    lambdas and named wrappers on the other side) an entry's driver runs; who runs each call of
    it: its own driver, a driver of the other side (directly, through a lambda or partial, or
    on every fire of a wrapper at least as frequent), or nothing of the coordinator's (a
    schedule the listener keeps itself); one task name on both sides.
    """
    registered = registered_alone(ctx)
    dual = set(registered.dual)
    if not dual and not registered.listeners.tasks():
        ctx.skip("registers no listener on both sides")
    if not any(entry.periodic_task is not None for entry in registered.entries):
        ctx.skip("registers no periodic task on the daemon side")
    skip_if_malformed(ctx, registered)
    drivers = drivers_of(registered.runtime)
    shared = [d.spec.interval_seconds for d in drivers if d.side == "listener" or d.owner in dual]
    every = [d.spec.interval_seconds for d in drivers]
    horizon = horizon_for(shared or every, every)
    recorders: list[CallRecorder] = []

    def record(clock: VirtualClock) -> Any:
        recorders.append(CallRecorder(drivers, clock))
        return recorders[-1].recording()

    # Who calls a callback does not depend on the wall clock: leaving it alone spares the cost
    # of moving it at every step, which the call recorder would multiply.
    outcome = virtual_run(
        registered.runtime,
        horizon,
        around=record,
        wall_clock=False,
        per_fire=RECORDED_WALL_PER_FIRE,
    )
    if outcome.watch.overran or outcome.error is not None:
        ctx.skip("the virtual run did not complete (see KC-DM-005)")
    problems = _double_problems(drivers, recorders[0], horizon, dual)
    ctx.fail_if(
        problems,
        expected="each periodic task known to both sides fired once per interval, by one "
        "driver (contract 3.2)",
        detail=outcome.summary(),
    )
