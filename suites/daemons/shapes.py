"""KC-DM-001 and KC-DM-007: the shape of what a plugin registers on the two sides (contract 3.1,
3.2) — well-formed entries, and honest shapes (pure-periodic, multi-task listener).

Both load the plugin alone into a fresh reference runtime and read its two registries back
(:mod:`kora_conformance.harness`). KC-DM-001 also looks again once the startups have run:
the coordinator reads a task's interval when its driver starts, after every startup.
"""

from __future__ import annotations

import dis
import functools
import inspect

from kora_conformance import CheckContext, Suite, needs_daemons
from kora_conformance.harness import (
    STARTUP_FORMS,
    bound_to_instance,
    call_startups,
    lifecycles,
    registered_alone,
)
from kora_conformance.suites.daemons._malformed import malformed
from reference_runtime import BackgroundDaemonEntry, DaemonListener, describe_callable

suite = Suite("daemon shapes")


@suite.check("KC-DM-001", applies=needs_daemons)
def well_formed_entries(ctx: CheckContext) -> None:
    """Space: every daemon entry, listener and listener-side task the plugin registers (names,
    intervals, shutdown timeouts, callables, the fatal flag), as registered and again once every
    startup has run (a startup that rewrites its spec is as malformed as a register() that
    does).
    """
    registered = registered_alone(ctx)
    expected = (
        "well-formed daemons: unique valid names, every interval and shutdown timeout a finite "
        "number of seconds > 0, as registered and after the startups ran (contract 3.1)"
    )
    problems = malformed(registered)
    ctx.fail_if(problems, expected=expected)
    plan = [(lifecycle, [STARTUP_FORMS[0][0]]) for lifecycle in lifecycles(registered)]
    watch, _ = call_startups(registered.runtime, plan)
    if watch.overran:
        return  # a startup that blocks is KC-DM-005's finding
    after = [f"after the startups ran: {p}" for p in malformed(registered)]
    ctx.fail_if(
        after,
        expected=expected,
        detail="a startup wrote into a registered spec (object.__setattr__ on a frozen "
        "dataclass): build the spec with its final values before registering it",
    )


# --- KC-DM-007 ----------------------------------------------------------------------------------

# Instructions of a function whose body does nothing (a docstring, ``pass``, ``return``,
# ``return None``), sync or async.
_NOOP_OPS = frozenset(
    {"RESUME", "NOP", "LOAD_CONST", "RETURN_VALUE", "RETURN_CONST", "POP_TOP", "RETURN_GENERATOR"}
)


def _does_nothing(fn: object) -> bool:
    """``fn``'s body does nothing: its code only returns ``None``."""
    target = fn
    while isinstance(target, functools.partial):
        target = target.func
    target = getattr(target, "__func__", target)
    code = getattr(target, "__code__", None)
    if code is None or not inspect.isfunction(target):
        return False
    instructions = list(dis.get_instructions(code))
    return all(i.opname in _NOOP_OPS for i in instructions) and all(
        i.argval is None for i in instructions if i.opname in {"LOAD_CONST", "RETURN_CONST"}
    )


def _is_pure_periodic(entry: BackgroundDaemonEntry) -> bool:
    """A periodic task whose startup and shutdown hold no state between them, so nothing a
    listener-side consumer could start: both belong to no instance, or both do nothing and
    their instance is no :class:`DaemonListener` (the listener class's own no-op methods
    are the listener-class shape)."""
    if entry.periodic_task is None:
        return False
    if not (bound_to_instance(entry.startup) or bound_to_instance(entry.shutdown)):
        return True
    owner = getattr(entry.startup, "__self__", None)
    return (
        not isinstance(owner, DaemonListener)
        and _does_nothing(entry.startup)
        and _does_nothing(entry.shutdown)
    )


@suite.check("KC-DM-007", applies=needs_daemons)
def honest_shapes(ctx: CheckContext) -> None:
    """Space: every daemon with a periodic task, whatever holds its no-op startup and shutdown
    (module functions, an instance of a plain class), against the listener side; every
    multi-task listener's entry against its listener-side tasks.
    """
    registered = registered_alone(ctx)
    listener_names = set(registered.listeners.names())
    owned: dict[str, int] = {}
    for task in registered.listeners.tasks():
        if task.listener:
            owned[task.listener] = owned.get(task.listener, 0) + 1
    pure = [e for e in registered.entries if _is_pure_periodic(e)]
    multi = [e for e in registered.entries if e.name in listener_names and owned.get(e.name, 0) > 1]
    if not pure and not multi:
        ctx.skip("registers no pure-periodic daemon and no multi-task listener")
    problems = [
        f"pure-periodic daemon {e.name!r} (startup {describe_callable(e.startup)}, shutdown "
        f"{describe_callable(e.shutdown)}: nothing to start or stop) is also on the listener side"
        for e in pure
        if e.name in listener_names
    ]
    for entry in multi:
        tasks = registered.listener_tasks_of(entry.name)
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
