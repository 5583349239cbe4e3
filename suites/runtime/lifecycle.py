"""KC-RT-007: the coordinator's lifecycle (contract section 3.3), read from the probes' journal."""

from __future__ import annotations

from typing import Final

from hypothesis import strategies as st

from kora_conformance import CheckContext, Suite, always
from kora_conformance.probes import generated, journal
from kora_conformance.probes.common import (
    FATAL_DAEMONS,
    INTERVAL,
    LIFECYCLE_DAEMONS,
    RUN_SECONDS,
)
from kora_conformance.suites.runtime._escapes import escape_problems
from kora_conformance.suites.runtime._generated import install
from kora_conformance.suites.runtime._hangs import hang_problems
from kora_conformance.suites.runtime._listener_side import listener_side
from kora_conformance.suites.runtime._probing import (
    first_index,
    names_of,
    prepare,
    probe_session,
    run_daemons,
    timeline,
)
from kora_conformance.suites.runtime._search import search

suite = Suite("runtime")

#: The generated plugin whose daemons' callbacks are sync, async or raising in every position.
G_LIFECYCLE: Final = "kcl_mixed"
#: Virtual seconds each generated run lasts, and examples searched beyond the two explicit ones
#: (a coordinator run costs most of a second of real time: kept to the explicit ones).
MIXED_SECONDS: Final = 1.0
MIXED_BUDGET: Final = 0


# --- KC-RT-007 ----------------------------------------------------------------------------------


def _lifecycle_problems(status: int, events: list[journal.Event]) -> list[str]:
    rec_c, nonfatal, rec_a, hang = LIFECYCLE_DAEMONS
    problems = []
    starts = names_of(events, "startup")
    if starts != list(LIFECYCLE_DAEMONS):
        problems.append(
            f"startups in the order {starts}, not registration order {list(LIFECYCLE_DAEMONS)}"
        )
    if status != 0:
        problems.append(f"exit status {status} after a non-fatal startup failure (expected 0)")
    problems += _fire_problems(events, hang)
    shutdowns = names_of(events, "shutdown")
    expected_shutdowns = [hang, rec_a, rec_c]
    if nonfatal in shutdowns:
        problems.append(f"{nonfatal}, whose startup failed, was shut down")
    if [s for s in shutdowns if s != nonfatal] != expected_shutdowns:
        problems.append(
            f"shutdowns in the order {shutdowns}, expected {expected_shutdowns} (reverse of "
            "startup, the failed one excluded)"
        )
    problems += hang_problems(events, hang)
    return problems


def _fire_problems(events: list[journal.Event], slow: str) -> list[str]:
    """Drivers started too early, cancelled too late, or firing off-schedule (first found)."""
    fires = [i for i, e in enumerate(events) if e.kind == "fire"]
    last_start = max(
        (i for i, e in enumerate(events) if e.kind in {"startup", "startup_done"}), default=-1
    )
    if fires and fires[0] < last_start:
        return [
            f"a periodic task fired ({events[fires[0]].who}) before every startup had finished "
            f"({slow}'s async startup was still running): drivers must start after all startups"
        ]
    first_shutdown = first_index(events, "shutdown")
    if first_shutdown is not None and any(i > first_shutdown for i in fires):
        return [
            "a periodic task fired after the first shutdown began: drivers must be cancelled "
            "before any daemon shuts down"
        ]
    expected = int(RUN_SECONDS // INTERVAL)
    problems = []
    for name in sorted({e.who for e in events if e.kind == "startup_done"} - {slow}):
        count = sum(1 for e in events if e.kind == "fire" and e.who == name)
        if count != expected:
            problems.append(
                f"{name}'s periodic task fired {count} times in {RUN_SECONDS:g} s at a "
                f"{INTERVAL:g} s interval (expected {expected}: sleep one interval, then call)"
            )
    return problems


def _fatal_problems(status: int, events: list[journal.Event]) -> list[str]:
    fatal_b, fatal_a, fatal, never = FATAL_DAEMONS
    problems = []
    starts = names_of(events, "startup")
    if starts != [fatal_b, fatal_a, fatal]:
        problems.append(f"startups {starts}, expected {[fatal_b, fatal_a, fatal]}")
    if never in starts:
        problems.append(f"{never} was started after the fatal failure of {fatal}")
    if status == 0:
        problems.append(f"exit status 0 after the fatal startup failure of {fatal}")
    fired = sorted(set(names_of(events, "fire")))
    if fired:
        problems.append(
            f"periodic tasks fired ({', '.join(fired)}) although startup failed fatally"
        )
    shutdowns = names_of(events, "shutdown")
    if shutdowns != [fatal_a, fatal_b]:
        problems.append(
            f"shutdowns {shutdowns}, expected {[fatal_a, fatal_b]} (the started ones, in "
            "reverse order)"
        )
    return problems


@suite.check("KC-RT-007", applies=always)
def coordinator_lifecycle(ctx: CheckContext) -> None:
    """Space: FIFO startups with a non-fatal failure among them and a slow async startup last,
    periodic drivers (fired once per interval, after every startup, cancelled before any
    shutdown), LIFO shutdowns of the started ones, a hung shutdown bounded from both sides (the
    next shutdown begins neither before its timeout ran out nor long after), and a fatal
    startup failure (no later startup, no fire, the started ones shut down in reverse, a
    non-zero status); on the listener side, a fork-style listener in both registries (one
    instance: started, fired and shut down once), a listener-only one (started after the
    entries, shut down first, bounded by the timeout its factory gives) and a listener-only
    startup failure (fatal); a multi-task listener through the runtime's own dual-registration
    helper, when it has one (one instance started and shut down once, its async primary task
    and its listener-side task each fired once per interval); a ``SystemExit`` from a sync
    startup, from sync and async shutdowns among others, and a ``SystemExit`` or
    ``GeneratorExit`` from a periodic task's first fire (fatal: no later startup or fire, every
    started one shut down once in reverse, exit status 1)."""
    prepare(ctx)
    scenarios = (
        (
            "probe_dm_lifecycle",
            "FIFO start; a non-fatal failure skipped (exit 0); periodic drivers after all "
            "startups, one fire per interval, cancelled before shutdown; LIFO shutdown; a hung "
            "shutdown bounded by its timeout and the rest still shut down",
            _lifecycle_problems,
        ),
        (
            "probe_dm_fatal",
            "a fatal startup failure stops starting (later daemons never start, no periodic "
            "task fires), the started ones shut down in reverse order, exit status non-zero",
            _fatal_problems,
        ),
    )
    for plugin, expected, judge in scenarios:
        journal.clear()
        with probe_session(ctx, [plugin]) as session:
            if plugin not in session.loaded:
                ctx.fail(
                    expected=f"the probe {plugin} to load",
                    seen=f"it did not: {session.load_errors.get(plugin, 'no error recorded')}",
                )
            status = run_daemons(ctx, session, RUN_SECONDS)
        events = journal.events()
        problems = judge(status, events)
        if problems:
            ctx.fail(
                expected=f"{plugin}: {expected}",
                seen="; ".join(problems),
                detail=f"run_daemons({RUN_SECONDS:g}) returned {status}\n{timeline(events)}",
            )
    _mixed_callbacks(ctx)
    listener_side(ctx)
    escaped, shown = escape_problems(ctx)
    if escaped:
        ctx.fail(
            expected="a SystemExit from a daemon's startup, shutdown (sync or async) or "
            "periodic task to be a fatal failure of that daemon: no later startup or fire, "
            "every started daemon shut down once in reverse order, exit status 1",
            seen="; ".join(escaped),
            detail=shown,
        )


def _mixed_problems(daemons: tuple[tuple[str, str, str], ...]) -> list[str]:
    events = journal.events()
    names = [name for name, _, _ in daemons]
    problems = []
    starts = names_of(events, "startup")
    if starts != names:
        problems.append(f"startups in the order {starts}, not registration order {names}")
    started = [n for n, startup, _ in daemons if not startup.endswith("raises")]
    shutdowns = names_of(events, "shutdown")
    if shutdowns != list(reversed(started)):
        problems.append(
            f"shutdowns in the order {shutdowns}, expected {list(reversed(started))} (reverse "
            "of startup, failed startups excluded, every one shut down even after one raised)"
        )
    for name, _, shutdown in daemons:
        if not shutdown.startswith("async") or shutdown.endswith("raises"):
            continue
        begun, done = (
            first_index(events, "shutdown", name),
            first_index(events, "shutdown_done", name),
        )
        after = next(
            (
                i
                for i, e in enumerate(events)
                if e.kind == "shutdown" and begun is not None and i > begun
            ),
            None,
        )
        if begun is not None and (done is None or (after is not None and after < done)):
            problems.append(
                f"{name}'s async shutdown was not awaited before the next shutdown began"
            )
    return problems


def _mixed_callbacks(ctx: CheckContext) -> None:
    """Daemons whose startups and shutdowns are sync, async or raising, in every position."""
    installed = install(ctx, [(G_LIFECYCLE, "directory")], label="lifecycle")
    kinds = generated.CALLBACK_KINDS

    @st.composite
    def mixes(draw: st.DrawFn) -> tuple[tuple[str, str, str], ...]:
        count = draw(st.integers(2, 5))
        return tuple(
            (f"kc_gen.d{i}", draw(st.sampled_from(kinds)), draw(st.sampled_from(kinds)))
            for i in range(count)
        )

    def judge(daemons: tuple[tuple[str, str, str], ...]) -> list[str]:
        generated.REGISTER.clear()
        generated.REGISTER[G_LIFECYCLE] = "lifecycle"
        generated.LIFECYCLE.clear()
        generated.LIFECYCLE[G_LIFECYCLE] = daemons
        journal.clear()
        with probe_session(
            ctx, [G_LIFECYCLE], extra_dirs=(installed.plugin_dir,), static=False
        ) as session:
            if G_LIFECYCLE not in session.loaded:
                why = session.load_errors.get(G_LIFECYCLE, "no error recorded")
                return [f"the generated {G_LIFECYCLE} did not load: {why}"]
            run_daemons(ctx, session, MIXED_SECONDS)
        return _mixed_problems(daemons)

    # Each shutdown kind first, in the middle and last; a failed startup among them.
    rotation = tuple(
        (f"kc_gen.d{i}", "raises" if i == 1 else kinds[i % 2], kinds[i % len(kinds)])
        for i in range(len(kinds) + 1)
    )
    reverse = tuple(
        (name, startup, kinds[-1 - i % len(kinds)]) for i, (name, startup, _) in enumerate(rotation)
    )
    found = search(ctx, mixes(), judge, budget=MIXED_BUDGET, explicit=[rotation, reverse])
    if found is not None:
        shown = ", ".join(f"{n} (startup {a}, shutdown {b})" for n, a, b in found.example)
        ctx.fail(
            expected="daemons started in registration order and the started ones shut down in "
            "reverse, each async callback awaited, a raising one isolated",
            seen="; ".join(found.problems),
            detail=f"daemons: {shown}\n{timeline(journal.events())}",
        )
