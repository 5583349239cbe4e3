"""KC-RT-007's process-level exceptions (contract 3.3): a daemon callback (startup, shutdown,
periodic task) raising ``SystemExit`` is a fatal failure of that daemon; the run stops, every
started daemon is shut down once in reverse order, and the exit status is 1, never the
plugin's code."""

from __future__ import annotations

from pathlib import Path
from typing import Final

from kora_conformance import CheckContext
from kora_conformance.probes import generated, journal
from kora_conformance.suites.runtime._generated import install
from kora_conformance.suites.runtime._probing import (
    first_index,
    names_of,
    probe_session,
    run_daemons,
    timeline,
)

__all__ = ["escape_problems"]

G_ESCAPES: Final = "kcl_escapes"
#: (daemons: name, startup kind, shutdown kind; the startups that must run; the shutdowns that
#: must run, in order). Virtual seconds each run lasts: :data:`RUN`.
SCENARIOS: Final = (
    (
        (("kc_esc.a", "sync", "sync"), ("kc_esc.b", "exits", "sync"), ("kc_esc.c", "sync", "sync")),
        ["kc_esc.a", "kc_esc.b"],
        ["kc_esc.a"],
    ),
    (
        (
            ("kc_esc.a", "sync", "sync"),
            ("kc_esc.b", "async", "exits"),
            ("kc_esc.c", "async", "async"),
        ),
        ["kc_esc.a", "kc_esc.b", "kc_esc.c"],
        ["kc_esc.c", "kc_esc.b", "kc_esc.a"],
    ),
    (
        (
            ("kc_esc.a", "async", "async"),
            ("kc_esc.b", "sync", "async_exits"),
            ("kc_esc.c", "sync", "sync"),
        ),
        ["kc_esc.a", "kc_esc.b", "kc_esc.c"],
        ["kc_esc.c", "kc_esc.b", "kc_esc.a"],
    ),
)
RUN: Final = 1.0
#: Virtual seconds of the periodic scenario: the exiting task's first fire comes at 1 s.
RUN_PERIODIC: Final = 3.5


def escape_problems(ctx: CheckContext) -> tuple[list[str], str]:
    """Run each scenario; what went wrong in the first that broke, and its timeline."""
    installed = install(ctx, [(G_ESCAPES, "directory")], label="escapes")
    for daemons, starts, shutdowns in SCENARIOS:
        generated.REGISTER.clear()
        generated.REGISTER[G_ESCAPES] = "lifecycle"
        generated.LIFECYCLE.clear()
        generated.LIFECYCLE[G_ESCAPES] = daemons
        journal.clear()
        with probe_session(
            ctx, [G_ESCAPES], extra_dirs=(installed.plugin_dir,), static=False
        ) as session:
            if G_ESCAPES not in session.loaded:
                why = session.load_errors.get(G_ESCAPES, "no error recorded")
                return [f"the generated {G_ESCAPES} did not load: {why}"], ""
            status = run_daemons(ctx, session, RUN)
        events = journal.events()
        shown = ", ".join(f"{n} (startup {a}, shutdown {b})" for n, a, b in daemons)
        problems = []
        if names_of(events, "startup") != starts:
            problems.append(f"startups {names_of(events, 'startup')}, expected {starts}")
        if names_of(events, "shutdown") != shutdowns:
            problems.append(
                f"shutdowns {names_of(events, 'shutdown')}, expected {shutdowns} (every started "
                "one, once, in reverse order, after a SystemExit too)"
            )
        if status != 1:
            problems.append(
                f"exit status {status}, expected 1 (a SystemExit({generated.EXIT_CODE}) from "
                "plugin code is a fatal failure; the plugin never chooses the status)"
            )
        if problems:
            return [f"daemons {shown}: " + "; ".join(problems)], timeline(events)
    for exception in ("SystemExit", "GeneratorExit"):
        problems, shown = _periodic_problems(ctx, installed.plugin_dir, exception)
        if problems:
            return problems, shown
    return [], ""


def _periodic_problems(
    ctx: CheckContext, plugin_dir: Path, exception: str
) -> tuple[list[str], str]:
    """A periodic task raising ``exception`` on its first fire: fatal, every daemon shut down
    once in reverse, no fire after it, exit status 1."""
    names = list(generated.EXITS_PERIODIC)
    generated.REGISTER.clear()
    mode = "exits_periodic" + (":generator" if exception == "GeneratorExit" else "")
    generated.REGISTER[G_ESCAPES] = mode
    journal.clear()
    with probe_session(ctx, [G_ESCAPES], extra_dirs=(plugin_dir,), static=False) as session:
        status = run_daemons(ctx, session, RUN_PERIODIC)
    events = journal.events()
    problems = []
    if names_of(events, "shutdown") != list(reversed(names)):
        problems.append(
            f"shutdowns {names_of(events, 'shutdown')}, expected {list(reversed(names))}"
        )
    exited = first_index(events, "fire", names[1])
    if exited is None:
        problems.append(f"{names[1]}'s periodic task never fired")
    else:
        later = [e.who for e in events if e.kind == "fire" and e.at > events[exited].at]
        if later:
            problems.append(f"periodic tasks fired after {names[1]}'s {exception} ({later})")
    if status != 1:
        problems.append(f"exit status {status}, expected 1")
    if problems:
        return [
            f"{names[1]}'s periodic task raising {exception} on its first fire (a fatal "
            "failure): " + "; ".join(problems)
        ], timeline(events)
    return [], ""
