"""KC-RT-007's listener side (contract 3.2, 3.3): listeners in the listener registry, with and
without a daemon entry, and a multi-task listener registered with the runtime's own
dual-registration helper when it has one; read from the probes' journal."""

from __future__ import annotations

from typing import Final

from kora_conformance import CheckContext
from kora_conformance.probes import generated, journal
from kora_conformance.probes.common import INTERVAL, RUN_SECONDS
from kora_conformance.suites.runtime._generated import install
from kora_conformance.suites.runtime._hangs import hang_problems
from kora_conformance.suites.runtime._probing import (
    names_of,
    probe_session,
    run_daemons,
    timeline,
)

__all__ = ["G_LISTENERS", "listener_side"]

#: The generated plugin that registers on the listener side.
G_LISTENERS: Final = "kcl_listeners"


def _listener_problems(status: int, events: list[journal.Event]) -> list[str]:
    dual, only = generated.LISTENER_DUAL, generated.LISTENER_ONLY
    problems = []
    starts = names_of(events, "startup")
    if starts != [dual, only]:
        problems.append(
            f"startups {starts}, expected {[dual, only]}: the daemon entry first, the "
            f"listener {dual} that shares it started once (both registries hold one "
            f"instance's methods), then the listener {only}, which has no entry"
        )
    if status != 0:
        problems.append(f"exit status {status} after a run without failure (expected 0)")
    fires = names_of(events, "fire").count(dual)
    expected = int(RUN_SECONDS // INTERVAL)
    if fires != expected:
        problems.append(
            f"{dual}'s periodic task fired {fires} times in {RUN_SECONDS:g} s at a "
            f"{INTERVAL:g} s interval (expected {expected})"
        )
    shutdowns = names_of(events, "shutdown")
    if shutdowns != [only, dual]:
        problems.append(
            f"shutdowns {shutdowns}, expected {[only, dual]} (each started one once, in "
            "reverse order of startup)"
        )
    problems += hang_problems(events, only)
    return problems


def _listener_fatal_problems(status: int, events: list[journal.Event]) -> list[str]:
    primary, failing, never = (
        generated.LISTENER_PRIMARY,
        generated.LISTENER_ONLY,
        generated.LISTENER_DUAL,
    )
    problems = []
    starts = names_of(events, "startup")
    if starts != [primary, failing]:
        problems.append(
            f"startups {starts}, expected {[primary, failing]}: the daemon entry, then the "
            f"listener {failing} (no entry), whose failure is fatal, so {never} never starts"
        )
    if status == 0:
        problems.append(
            f"exit status 0 after the startup of {failing}, a listener with no daemon entry, "
            "failed (fatal: nothing declares it optional)"
        )
    if names_of(events, "fire"):
        problems.append("a periodic task fired although startup failed fatally")
    shutdowns = names_of(events, "shutdown")
    if shutdowns != [primary]:
        problems.append(f"shutdowns {shutdowns}, expected {[primary]} (the started one)")
    return problems


def _dual_problems(status: int, events: list[journal.Event]) -> list[str]:
    if journal.events("dual_unsupported"):
        return []  # the runtime has no dual-registration helper: nothing to judge
    name, (primary, side) = generated.DUAL, generated.DUAL_TASKS
    expected = int(RUN_SECONDS // INTERVAL)
    problems = []
    if names_of(events, "startup") != [name] or names_of(events, "shutdown") != [name]:
        problems.append(
            f"startups {names_of(events, 'startup')} and shutdowns "
            f"{names_of(events, 'shutdown')}, expected [{name!r}] each (one instance, both sides)"
        )
    for task in (primary, side):
        fired = names_of(events, "fire").count(task)
        if fired != expected:
            problems.append(
                f"{task} fired {fired} times in {RUN_SECONDS:g} s at a {INTERVAL:g} s interval "
                f"(expected {expected}: the primary task once, not once per side; the "
                "listener-side task from the listener side)"
            )
    if status != 0:
        problems.append(f"exit status {status} (expected 0)")
    return problems


def listener_side(ctx: CheckContext) -> None:
    """The listener registry: a fork-style listener on both sides, a listener-only one with a
    timeout of its own, and a fatal listener-only startup failure."""
    installed = install(ctx, [(G_LISTENERS, "directory")], label="listeners")
    scenarios = (
        (
            "listeners",
            f"a listener on both sides ({generated.LISTENER_DUAL}: one daemon entry with a "
            "periodic task, the same instance's methods as its listener factory) started, fired "
            f"and shut down once; the listener-only {generated.LISTENER_ONLY} started after "
            "the entries and shut down first, bounded by the timeout its factory gives",
            _listener_problems,
        ),
        (
            "listeners_fatal",
            f"the failing startup of {generated.LISTENER_ONLY}, a listener with no daemon "
            "entry, is fatal: nothing starts after it, nothing fires, the started daemon shuts "
            "down, the exit status is non-zero",
            _listener_fatal_problems,
        ),
        (
            "dual",
            f"a multi-task listener ({generated.DUAL}) registered with the runtime's own "
            "dual-registration helper: started and shut down once, its primary task (async) "
            "fired once per interval, its listener-side task fired once per interval",
            _dual_problems,
        ),
    )
    for mode, expected, judge in scenarios:
        generated.REGISTER.clear()
        generated.REGISTER[G_LISTENERS] = mode
        journal.clear()
        with probe_session(
            ctx, [G_LISTENERS], extra_dirs=(installed.plugin_dir,), static=False
        ) as session:
            if G_LISTENERS not in session.loaded:
                why = session.load_errors.get(G_LISTENERS, "no error recorded")
                ctx.fail(expected=f"the generated {G_LISTENERS} to load", seen=why)
            status = run_daemons(ctx, session, RUN_SECONDS)
        events = journal.events()
        problems = judge(status, events)
        if problems:
            ctx.fail(
                expected=expected,
                seen="; ".join(problems),
                detail=f"run_daemons({RUN_SECONDS:g}) returned {status}\n{timeline(events)}",
            )
