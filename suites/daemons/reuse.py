"""KC-DM-003 and KC-DM-004: one instance behind both sides, and registrations that a re-import
leaves as they were (contract 3.1, 3.2).

Both compare what the registries hold across the ways a process meets a plugin again: the
factory called twice, ``register`` run again into the live runtime (a second import), and
``importlib.reload`` followed by a fresh runtime's load (:mod:`kora_conformance.harness._reload`).
"""

from __future__ import annotations

from kora_conformance import CheckContext, Suite, needs_daemons
from kora_conformance.harness import (
    Registered,
    default_names,
    describe_bound,
    describe_names,
    load_after_reload,
    names_in,
    plugin_modules,
    register_again,
    registered_alone,
    reload_modules,
    reload_or_fail,
    same_bound,
    shape_changes,
    shapes_in,
)
from reference_runtime import BackgroundDaemonEntry, DaemonSpecError, ListenerRegistry, Runtime

suite = Suite("daemon reuse")

#: How many times each way of meeting the plugin again is repeated: a problem may show only
#: the second time (a cache filled by the first).
_AGAIN = 2


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


def _sharing_problems(runtime: Runtime, names: list[str], when: str) -> list[str]:
    problems = []
    for name in names:
        entry = runtime.daemons.by_name(name)
        if entry is None or name not in runtime.listeners:
            continue  # gone from a side: KC-DM-004 reports what changed
        problems += [
            f"{when}: {p}" if when else p for p in _reuse_problems(entry, runtime.listeners)
        ]
    return problems


def _reloaded_runtime(ctx: CheckContext, registered: Registered) -> Runtime | None:
    """A fresh runtime with the plugin loaded after a reload of its modules; ``None`` when the
    reload or the load fails (KC-DM-004 reports that)."""
    try:
        reload_modules(plugin_modules(registered.plugin))
    except Exception:  # noqa: BLE001 - a failing reload is KC-DM-004's finding
        return None
    fresh = ctx.runtime()
    if fresh.load().plugin(ctx.target.name) is None:
        return None
    return fresh


@suite.check("KC-DM-003", applies=needs_daemons)
def singleton_reuse(ctx: CheckContext) -> None:
    """Space: every listener on both sides; its factory called twice; on the first load, after
    ``register`` ran again into the same runtime (once and twice, as a re-import does), and in
    a fresh runtime after ``importlib.reload`` (once and twice): each time both sides hold the
    bound methods of one instance, startup and shutdown alike.
    """
    registered = registered_alone(ctx)
    if not registered.dual:
        ctx.skip("registers no listener on both sides")
    runtime, dual = registered.runtime, registered.dual
    problems = _sharing_problems(runtime, dual, "")
    for n in range(1, _AGAIN + 1):
        if problems or register_again(registered.plugin, runtime) is not None:
            break
        problems += _sharing_problems(
            runtime, dual, f"after register() ran again into the same runtime ({n}x)"
        )
    for n in range(1, _AGAIN + 1):
        if problems or (fresh := _reloaded_runtime(ctx, registered)) is None:
            break
        problems += _sharing_problems(
            fresh, dual, f"in a fresh runtime after importlib.reload ({n}x)"
        )
    ctx.fail_if(
        problems,
        expected="for each listener on both sides, the bound methods of one instance in both "
        "registries, equal under == and with the same __self__, on every load, re-import and "
        "reload (contract 3.2)",
        detail="keep the listener's instance where a re-import finds it again: "
        "DaemonListener.instance(), not an instance built in register() or cached beside it",
    )


@suite.check("KC-DM-004", applies=needs_daemons)
def reload_safe_registration(ctx: CheckContext) -> None:
    """Space: the names and the shapes (intervals, timeouts, fatal flags, task names, which
    callables) of both sides and of the process defaults, compared with the first load's after
    ``importlib.reload`` in a fresh runtime, and after ``register`` ran again into the live
    runtime once and twice; each re-registration without error.
    """
    registered = registered_alone(ctx)
    runtime, plugin = registered.runtime, registered.plugin
    before, defaults_before = names_in(runtime), default_names()
    shapes_before = shapes_in(runtime)
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
    kept_outside = (
        "state kept outside the reloaded module (a submodule, a counter, a class attribute of "
        "another module) changed what register() registers"
    )
    if (after := names_in(fresh)) != before:
        ctx.fail(
            expected=expected,
            seen=f"after reloading {reloaded}, a fresh runtime got {describe_names(after)}",
            detail=kept_outside,
        )
    if changes := shape_changes(shapes_before, shapes_in(fresh)):
        ctx.fail(
            expected="the registrations of the first load, field for field",
            seen=f"after reloading {reloaded}, in a fresh runtime: " + "; ".join(changes),
            detail=kept_outside,
        )
    for n in range(1, _AGAIN + 1):
        when = f"after reloading {reloaded} and registering again into the same runtime ({n}x)"
        if (error := register_again(plugin, runtime)) is not None:
            ctx.fail(
                expected="registering again into the same runtime after the reload to be a no-op",
                seen=f"{when}, it raised {error}",
                detail="the same daemon registered again must compare equal: define its "
                "callbacks at module level or as methods of the listener's process-wide "
                "instance, not as lambdas or nested functions",
            )
        if (again := names_in(runtime)) != before:
            ctx.fail(expected=expected, seen=f"{when}: {describe_names(again)}")
        if changes := shape_changes(shapes_before, shapes_in(runtime)):
            ctx.fail(
                expected="the registrations of the first load, field for field",
                seen=f"{when}: " + "; ".join(changes),
                detail=kept_outside,
            )
