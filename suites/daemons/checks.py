"""KC-DM-*: background daemons and dual-registry listeners — shape, signatures, reuse, reloads,
lifecycle and scheduling (contract section 3).

Every check loads the plugin alone into a fresh reference runtime and looks at what it put in the
runtime's two registries (:mod:`kora_conformance.harness._registrations`): the daemon side
(``runtime.daemons``) and the listener side (``runtime.listeners``, with its periodic tasks).
KC-DM-005 and KC-DM-006 run the reference coordinator in virtual time, under a wall-clock
watchdog that interrupts code blocking the event loop and reports where it was
(:func:`kora_conformance.harness.virtual_run`); KC-DM-006 also records which driver each run
of a task's callback came from (:mod:`._call_recorder`).

Checks that cannot judge a plugin because an earlier rule is broken skip and name that rule: a
malformed interval (KC-DM-001) would make a virtual run spin at one instant for ever, and a run
that blocks (KC-DM-005) says nothing about scheduling.
"""

from __future__ import annotations

import inspect
import math
import numbers
import re
from collections import Counter
from collections.abc import Callable, Sequence
from typing import Any, Final

from kora_conformance import CheckContext, Suite, needs_daemons
from kora_conformance.harness import (
    AGAIN,
    STARTUP_FORMS,
    CallbackKey,
    Driver,
    Lifecycle,
    Outcome,
    Registered,
    bound_to_instance,
    call_startups,
    callback_key,
    default_names,
    describe_bound,
    describe_names,
    drivers_of,
    fire_count,
    horizon_for,
    lifecycles,
    load_after_reload,
    names_in,
    register_again,
    registered_alone,
    reload_or_fail,
    same_bound,
    virtual_run,
)
from kora_conformance.suites.daemons._call_recorder import CallRecorder
from reference_runtime import (
    BackgroundDaemonEntry,
    DaemonSpecError,
    EventKind,
    ListenerRegistry,
    PeriodicTaskSpec,
    VirtualClock,
    describe_callable,
)

suite = Suite("daemons")

# The daemon side's name rule (contract 3.1), restated so an entry that bypassed it is caught.
_DAEMON_NAME: Final = re.compile(r"[A-Za-z0-9_.\-]+")


# --- KC-DM-001 ----------------------------------------------------------------------------------


def _seconds_problem(value: object) -> str | None:
    """Why ``value`` is not a finite number of seconds > 0, or ``None``."""
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        return f"{type(value).__name__} {value!r}, not a number"
    if not math.isfinite(float(value)):
        return f"{value!r}, not finite"
    if value <= 0:
        return f"{value!r}, not > 0"
    return None


def _task_problems(task: object, owner: str) -> list[str]:
    if not isinstance(task, PeriodicTaskSpec):
        return [f"{owner}: periodic_task is {type(task).__name__}, not a PeriodicTaskSpec"]
    problems = []
    if (why := _seconds_problem(task.interval_seconds)) is not None:
        problems.append(f"{owner}: periodic task {task.name!r} has interval_seconds {why}")
    name: object = task.name
    if not isinstance(name, str) or not name:
        problems.append(f"{owner}: a periodic task's name is {name!r}, not a non-empty string")
    callback: object = task.callback
    if not callable(callback):
        problems.append(f"{owner}: periodic task {task.name!r} has a callback that is not callable")
    return problems


def _entry_problems(entry: BackgroundDaemonEntry, registered: Registered) -> list[str]:
    name: object = entry.name
    if not isinstance(name, str) or not _DAEMON_NAME.fullmatch(name):
        return [f"a daemon's name is {name!r}: use ASCII letters, digits, '_', '-' and '.'"]
    owner = f"daemon {name!r}"
    problems = []
    if registered.runtime.daemons.by_name(name) is not entry:
        problems.append(f"{owner} is not the entry registered under its name (renamed after)")
    if (why := _seconds_problem(entry.shutdown_timeout)) is not None:
        problems.append(f"{owner}: shutdown_timeout is {why}")
    for field in ("startup", "shutdown"):
        if not callable(getattr(entry, field)):
            problems.append(f"{owner}: {field} is not callable")
    fatal: object = entry.fatal_on_startup_failure
    if not isinstance(fatal, bool):
        problems.append(f"{owner}: fatal_on_startup_failure is {fatal!r}, not True or False")
    if entry.periodic_task is not None:
        problems += _task_problems(entry.periodic_task, owner)
    return problems


def _listener_problems(registered: Registered) -> list[str]:
    problems = []
    for name in registered.listeners.names():
        if not name.isidentifier():
            problems.append(f"listener name {name!r} is not a Python identifier")
            continue
        try:
            registered.listeners.resolve(name)
        except DaemonSpecError as exc:
            problems.append(str(exc))
    for task in registered.listeners.tasks():
        owner = f"listener {task.listener!r}" if task.listener else "the listener side"
        problems += _task_problems(task.spec, owner)
    return problems


def _malformed(registered: Registered) -> list[str]:
    problems = [p for entry in registered.entries for p in _entry_problems(entry, registered)]
    counts = Counter(entry.name for entry in registered.entries)
    problems += [f"daemon name {n!r} is held by {c} entries" for n, c in counts.items() if c > 1]
    return problems + _listener_problems(registered)


def _skip_if_malformed(ctx: CheckContext, registered: Registered) -> None:
    if _malformed(registered):
        ctx.skip("its daemon entries are malformed (see KC-DM-001)")


@suite.check("KC-DM-001", applies=needs_daemons)
def well_formed_entries(ctx: CheckContext) -> None:
    registered = registered_alone(ctx)
    problems = _malformed(registered)
    ctx.fail_if(
        problems,
        expected="well-formed daemons: unique valid names, every interval and shutdown "
        "timeout a finite number of seconds > 0 (contract 3.1)",
    )


# --- KC-DM-002 ----------------------------------------------------------------------------------


def _signature(fn: Callable[..., Any]) -> inspect.Signature | None:
    try:
        return inspect.signature(fn)
    except (TypeError, ValueError):
        return None


def _bindable(lifecycle: Lifecycle, problems: list[str]) -> list[str]:
    """The forms ``lifecycle.startup``'s signature accepts; a problem for each it refuses."""
    signature = _signature(lifecycle.startup)
    if signature is None:  # a builtin without a signature: calling it is the only test
        return [form for form, _, _ in STARTUP_FORMS]
    forms = []
    for form, positional, keyword in STARTUP_FORMS:
        try:
            signature.bind(
                *((None,) if positional else ()), **({"coordinator": None} if keyword else {})
            )
        except TypeError:
            name = describe_callable(lifecycle.startup)
            problems.append(
                f"{lifecycle.label}: startup {name}{signature} cannot be called as {form}"
            )
        else:
            forms.append(form)
    return forms


@suite.check("KC-DM-002", applies=needs_daemons)
def startup_call_forms(ctx: CheckContext) -> None:
    registered = registered_alone(ctx)
    problems: list[str] = []
    plan = [(lifecycle, _bindable(lifecycle, problems)) for lifecycle in lifecycles(registered)]
    watch, results = call_startups(registered.runtime, plan)
    if watch.overran:
        ctx.skip(f"calling the startups blocked: {watch.describe()} (see KC-DM-005)")
    baseline = STARTUP_FORMS[0][0]
    for (lifecycle, _), outcomes in zip(plan, results, strict=True):
        signature = _signature(lifecycle.startup)
        # Started again in the first form after the others, it failed too: the later forms'
        # errors come from restarting a one-shot daemon, not from how it was called.
        one_shot = AGAIN in outcomes and outcomes.pop(AGAIN) is not None
        for form, error in outcomes.items():
            if error is None:
                continue
            if signature is None and isinstance(error, TypeError):
                problems.append(f"{lifecycle.label}: {form} raised TypeError: {error}")
            elif one_shot and not isinstance(error, TypeError):
                continue
            elif form != baseline and baseline in outcomes and outcomes[baseline] is None:
                problems.append(
                    f"{lifecycle.label}: {form} raised {type(error).__name__}: {error}, while "
                    f"{baseline} returns normally ({describe_callable(lifecycle.startup)})"
                )
    ctx.fail_if(
        problems,
        expected="every startup callable as startup(coordinator), "
        "startup(coordinator=coordinator) and startup() (contract 3.2)",
    )


# --- KC-DM-003 ----------------------------------------------------------------------------------


def _reuse_problems(entry: BackgroundDaemonEntry, listeners: ListenerRegistry) -> list[str]:
    name = entry.name
    try:
        first, second = listeners.resolve(name), listeners.resolve(name)
    except DaemonSpecError as exc:
        return [f"listener {name!r}: its factory failed, so nothing can be compared: {exc}"]
    problems = []
    for role in ("startup", "shutdown"):
        daemon_side, listener_side = getattr(entry, role), getattr(first, role)
        if not same_bound(daemon_side, listener_side):
            problems.append(
                f"{name!r}: the daemon side's {role} is {describe_bound(daemon_side)}, the "
                f"listener side's is {describe_bound(listener_side)}"
            )
        elif not same_bound(listener_side, getattr(second, role)):
            problems.append(
                f"{name!r}: the listener factory returns a different {role} on each call "
                f"({describe_bound(listener_side)}, then "
                f"{describe_bound(getattr(second, role))}): it builds a new instance each time"
            )
    starts, stops = (
        getattr(entry.startup, "__self__", None),
        getattr(entry.shutdown, "__self__", None),
    )
    if starts is not None and stops is not None and starts is not stops:
        problems.append(
            f"{name!r}: startup and shutdown are bound to two different instances "
            f"({describe_bound(entry.startup)}, {describe_bound(entry.shutdown)})"
        )
    return problems


@suite.check("KC-DM-003", applies=needs_daemons)
def singleton_reuse(ctx: CheckContext) -> None:
    registered = registered_alone(ctx)
    if not registered.dual:
        ctx.skip("registers no listener on both sides")
    problems = []
    for name in registered.dual:
        entry = registered.runtime.daemons.by_name(name)
        assert entry is not None
        problems += _reuse_problems(entry, registered.listeners)
    ctx.fail_if(
        problems,
        expected="for each listener on both sides, the bound methods of one instance in both "
        "registries, equal under == and with the same __self__ (contract 3.2)",
    )


# --- KC-DM-004 ----------------------------------------------------------------------------------


@suite.check("KC-DM-004", applies=needs_daemons)
def reload_safe_registration(ctx: CheckContext) -> None:
    registered = registered_alone(ctx)
    runtime, plugin = registered.runtime, registered.plugin
    before, defaults_before = names_in(runtime), default_names()
    expected = f"exactly the registrations of the first load ({describe_names(before)})"
    reloaded = reload_or_fail(ctx, plugin)
    defaults_after = default_names()
    if defaults_after != defaults_before:
        ctx.fail(
            expected="the reload to register nothing new in the process-default registries",
            seen=f"before: daemons {defaults_before[0]}, listeners {defaults_before[1]}; after "
            f"reloading {reloaded}: daemons {defaults_after[0]}, listeners {defaults_after[1]}",
        )
    fresh = ctx.runtime()
    load_after_reload(ctx, fresh, reloaded)
    if (after := names_in(fresh)) != before:
        ctx.fail(
            expected=expected,
            seen=f"after reloading {reloaded}, a fresh runtime got {describe_names(after)}",
            detail="state kept outside the reloaded module (a submodule, a counter, a "
            "class attribute of another module) changed what register() registers",
        )
    if (error := register_again(plugin, runtime)) is not None:
        ctx.fail(
            expected="registering again into the same runtime after the reload to be a no-op",
            seen=f"it raised {error}",
            detail="the same daemon registered again must compare equal: define its callbacks "
            "at module level or as methods of the listener's process-wide instance, not as "
            "lambdas or nested functions",
        )
    if (again := names_in(runtime)) != before:
        ctx.fail(
            expected=expected,
            seen=f"after reloading {reloaded} and registering again into the same runtime: "
            f"{describe_names(again)}",
        )


# --- KC-DM-005 ----------------------------------------------------------------------------------


def _fire_problems(outcome: Outcome, drivers: Sequence[Driver]) -> list[str]:
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


def _lifecycle_problems(outcome: Outcome) -> list[str]:
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
    return problems


@suite.check("KC-DM-005", applies=needs_daemons)
def lifecycle_in_virtual_time(ctx: CheckContext) -> None:
    registered = registered_alone(ctx)
    _skip_if_malformed(ctx, registered)
    every = [d.spec.interval_seconds for d in drivers_of(registered.runtime)]
    outcome = virtual_run(registered.runtime, horizon_for(every, every))
    expected = (
        "startups that complete, each periodic task fired once per interval from one interval "
        "on (raising or not), and shutdowns within their timeouts, with exit status 0 "
        "(contract 3.3)"
    )
    if outcome.watch.overran:
        ctx.fail(expected=expected, seen=outcome.watch.describe(), detail=outcome.summary())
    if outcome.error is not None:
        ctx.fail(
            expected=expected,
            seen=f"the run was ended by {type(outcome.error).__name__}: {outcome.error} raised "
            "from the plugin's daemons",
            detail=outcome.summary(),
        )
    problems = _lifecycle_problems(outcome)
    started = {e.daemon for e in outcome.events(EventKind.STARTUP_OK)}
    problems += _fire_problems(outcome, drivers_of(registered.runtime, started))
    if outcome.coordinator.abandoned:
        problems.append(
            f"{len(outcome.coordinator.abandoned)} shutdown(s) ignored cancellation and were "
            "left running"
        )
    detail = outcome.summary()
    if attempts := ctx.sandbox.network.attempts:
        detail += f"\nthe kit blocks the network; {len(attempts)} attempt(s): {', '.join(attempts)}"
    ctx.fail_if(problems, expected=expected, detail=detail)


# --- KC-DM-006 ----------------------------------------------------------------------------------


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
        if outside and driver.side == "daemon" and driver.owner in dual:
            problems.append(
                f"{name}, {driver.label}, also ran {outside} times outside the coordinator's "
                "drivers (a schedule the listener keeps itself?) while its entry's driver ran "
                f"it {own} times in {horizon:g} s"
            )
    return problems


@suite.check("KC-DM-006", applies=needs_daemons)
def no_double_scheduling(ctx: CheckContext) -> None:
    registered = registered_alone(ctx)
    dual = set(registered.dual)
    if not dual and not registered.listeners.tasks():
        ctx.skip("registers no listener on both sides")
    if not any(entry.periodic_task is not None for entry in registered.entries):
        ctx.skip("registers no periodic task on the daemon side")
    _skip_if_malformed(ctx, registered)
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
    outcome = virtual_run(registered.runtime, horizon, around=record, wall_clock=False)
    if outcome.watch.overran or outcome.error is not None:
        ctx.skip("the virtual run did not complete (see KC-DM-005)")
    problems = _double_problems(drivers, recorders[0], horizon, dual)
    ctx.fail_if(
        problems,
        expected="each periodic task known to both sides fired once per interval, by one "
        "driver (contract 3.2)",
        detail=outcome.summary(),
    )


# --- KC-DM-007 ----------------------------------------------------------------------------------


def _is_pure_periodic(entry: BackgroundDaemonEntry) -> bool:
    """A periodic task whose startup and shutdown belong to no instance: nothing to hold state
    between them, so nothing a listener-side consumer could start."""
    return entry.periodic_task is not None and not (
        bound_to_instance(entry.startup) or bound_to_instance(entry.shutdown)
    )


@suite.check("KC-DM-007", applies=needs_daemons)
def honest_shapes(ctx: CheckContext) -> None:
    registered = registered_alone(ctx)
    listener_names = set(registered.listeners.names())
    owned: dict[str, list[PeriodicTaskSpec]] = {}
    for task in registered.listeners.tasks():
        if task.listener:
            owned.setdefault(task.listener, []).append(task.spec)
    pure = [e for e in registered.entries if _is_pure_periodic(e)]
    multi = [
        e for e in registered.entries if e.name in listener_names and len(owned.get(e.name, [])) > 1
    ]
    if not pure and not multi:
        ctx.skip("registers no pure-periodic daemon and no multi-task listener")
    problems = [
        f"pure-periodic daemon {e.name!r} (startup {describe_callable(e.startup)}, shutdown "
        f"{describe_callable(e.shutdown)}) is also on the listener side"
        for e in pure
        if e.name in listener_names
    ]
    for entry in multi:
        tasks = owned[entry.name]
        names = ", ".join(repr(t.name) for t in tasks)
        primary = entry.periodic_task
        if primary is None:
            problems.append(
                f"multi-task listener {entry.name!r} ({len(tasks)} tasks: {names}): its entry "
                "carries no periodic task, so a daemon-side consumer runs none of them"
            )
        elif not any(primary is t or primary.callback == t.callback for t in tasks):
            problems.append(
                f"multi-task listener {entry.name!r}: its entry carries task {primary.name!r}, "
                f"which is not one of its listener-side tasks ({names})"
            )
    ctx.fail_if(
        problems,
        expected="pure-periodic daemons on the daemon side only, and each multi-task "
        "listener's entry carrying exactly one of its tasks, the primary (contract 3.2)",
    )
