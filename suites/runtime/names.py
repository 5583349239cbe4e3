"""KC-RT-006: daemon names — a different daemon under a taken name is an error naming both
owners; the same daemon registered again is a no-op."""

from __future__ import annotations

from typing import Final

from kora_conformance import CheckContext, Suite, always
from kora_conformance.probes import generated
from kora_conformance.suites.runtime._generated import Installed, install
from kora_conformance.suites.runtime._probing import (
    prepare,
    probe_session,
)

suite = Suite("runtime")


# --- KC-RT-006 ----------------------------------------------------------------------------------

CLAIM_FIRST: Final = "probe_dm_claim_first"
CLAIM_SECOND: Final = "probe_dm_claim_second"
SHARED_DAEMON: Final = "kc_probe.shared"
TWICE: Final = "probe_dm_twice"
TWICE_DAEMON: Final = "kc_probe.twice"
G_SAME: Final = "kcd_same"
G_CLASH: Final = "kcd_clash"
#: A fork-style plugin registering at import (see ``_generated``), and one that registers a
#: different daemon under the name the fork-style one registered at import only.
G_FORK: Final = "kcd_fork"
G_TAKER: Final = "kcd_taker"


def _static_names(ctx: CheckContext) -> None:
    with probe_session(ctx, [TWICE]) as session:
        daemons = list(session.daemon_names())
        error = session.load_errors.get(TWICE)
        if error is not None or TWICE not in session.loaded:
            ctx.fail(
                expected=f"{TWICE}, registering the same daemon {TWICE_DAEMON} twice, to load "
                "(the repeat is a no-op)",
                seen=f"it failed to load: {error or 'no error recorded'}",
            )
        if daemons.count(TWICE_DAEMON) != 1:
            ctx.fail(
                expected=f"exactly one {TWICE_DAEMON} entry after registering it twice",
                seen=f"{daemons.count(TWICE_DAEMON)} entries (daemon names: {daemons})",
            )
    _clash(ctx, CLAIM_FIRST, CLAIM_SECOND)


def _clash(ctx: CheckContext, first: str, second: str) -> None:
    enabled = [first, second]
    with probe_session(ctx, enabled) as session:
        loaded = list(session.loaded)
        errors = dict(session.load_errors)
        daemons = list(session.daemon_names())
    clash = (
        f"{second} registers a different daemon under {SHARED_DAEMON}, which {first} already holds"
    )
    if first not in loaded:
        ctx.fail(
            expected=f"{first}, first to claim {SHARED_DAEMON}, to load",
            seen=f"it did not: {errors.get(first, 'no error recorded')}",
        )
    error = errors.get(second)
    if second in loaded or error is None:
        ctx.fail(
            expected=f"{clash}: a load error for {second} naming both owners",
            seen=f"{second} loaded without error"
            if second in loaded
            else f"{second} did not load, but no error is recorded",
            detail=f"daemon names: {daemons}\nthe fork swallowed every duplicate error, which "
            "also hid real name clashes; ignore only an identical repeat",
        )
    unnamed = [name for name in (first, second) if name not in error]
    if unnamed:
        ctx.fail(
            expected=f"{clash}: an error naming both owners ({first}, {second})",
            seen=f"the error does not name {', '.join(unnamed)}: {error!r}",
        )
    if daemons.count(SHARED_DAEMON) != 1:
        ctx.fail(
            expected=f"{clash}: {SHARED_DAEMON} registered once, by {first}",
            seen=f"{daemons.count(SHARED_DAEMON)} entries (daemon names: {daemons})",
        )


def _either_clash(ctx: CheckContext, enabled: list[str]) -> None:
    """Both claimants of :data:`SHARED_DAEMON`, in ``enabled`` order: whichever the runtime
    loads first holds the name (load order is KC-RT-001's question), the other fails with an
    error naming both."""
    with probe_session(ctx, enabled) as session:
        loaded = [n for n in session.loaded if n in enabled]
        errors = dict(session.load_errors)
        daemons = list(session.daemon_names())
    refused = [n for n in enabled if n not in loaded]
    error = errors.get(refused[0], "") if len(refused) == 1 else ""
    if len(loaded) != 1 or any(n not in error for n in enabled):
        ctx.fail(
            expected=f"with plugins.enabled = {enabled}, both registering a different daemon "
            f"under {SHARED_DAEMON}: one loads, the other fails with an error naming both",
            seen=f"loaded: {loaded}; errors: {errors}",
            detail=f"daemon names: {daemons}",
        )


@suite.check("KC-RT-006", applies=always)
def daemon_name_ownership(ctx: CheckContext) -> None:
    """Space: a name registered twice by one plugin, with the same daemon (a no-op) and with a
    different one (an error), and by two plugins in either order (an error for the later one,
    naming both), then each claimant alone in a fresh runtime (a name held in another runtime
    is no clash); and a fork-style plugin registering into the process-default registry at
    import: the same daemon again through its context (one entry), a different daemon of
    another plugin under a name it registered at import only (an error naming both), that
    other plugin alone in a fresh runtime (no clash: the defaults are taken in only by the
    runtime that loads their plugin)."""
    prepare(ctx)
    _static_names(ctx)
    _either_clash(ctx, [CLAIM_SECOND, CLAIM_FIRST])
    for alone in (CLAIM_FIRST, CLAIM_SECOND):
        with probe_session(ctx, [alone]) as session:
            if alone not in session.loaded:
                ctx.fail(
                    expected=f"{alone}, alone in a fresh runtime, to load: {SHARED_DAEMON} is "
                    "held in no other plugin of this runtime",
                    seen=f"it did not: {session.load_errors.get(alone, 'no error recorded')}",
                    detail="a daemon registry belongs to one runtime, not to the process",
                )
    installed = install(
        ctx,
        [(n, "directory") for n in (G_SAME, G_CLASH, G_FORK, G_TAKER)],
        import_registers=(G_FORK,),
        label="names",
    )
    fork = installed.by_name(G_FORK)
    generated.REGISTER.clear()
    generated.REGISTER.update(
        {
            G_SAME: "same_daemon_twice",
            G_CLASH: "two_daemons_one_name",
            G_TAKER: f"takes:{fork.import_daemon}",
        }
    )
    with probe_session(
        ctx, [G_SAME, G_CLASH], extra_dirs=(installed.plugin_dir,), static=False
    ) as session:
        loaded, errors = list(session.loaded), dict(session.load_errors)
        daemons = list(session.daemon_names())
    same, clash = generated.clash_name(G_SAME), generated.clash_name(G_CLASH)
    if G_SAME not in loaded or daemons.count(same) != 1:
        ctx.fail(
            expected=f"{G_SAME}, registering the same daemon {same} twice, to load with one "
            "entry (the repeat is a no-op)",
            seen=f"loaded: {G_SAME in loaded} ({errors.get(G_SAME, 'no error')}); "
            f"{daemons.count(same)} entries",
        )
    if G_CLASH in loaded or G_CLASH not in (errors.get(G_CLASH) or ""):
        ctx.fail(
            expected=f"{G_CLASH}, registering two different daemons under {clash}, to fail to "
            "load with an error naming it",
            seen=f"{G_CLASH} loaded, keeping {daemons.count(clash)} entry (the second daemon "
            "silently dropped or replacing the first)"
            if G_CLASH in loaded
            else f"the error does not name {G_CLASH}: {errors.get(G_CLASH)!r}",
            detail="compare the whole entry (callbacks, schedule, owner), not the owner alone",
        )
    _fork_style(ctx, installed)


def _fork_style(ctx: CheckContext, installed: Installed) -> None:
    """Registrations a plugin's import made into the process-default registry are its own:
    the same daemon again through the context is a no-op, a different daemon under a name it
    registered at import is a clash naming both, and no other runtime takes them in."""
    fork = installed.by_name(G_FORK)
    both, imported = fork.both_daemon, fork.import_daemon
    for enabled in ([G_FORK], [G_FORK, G_TAKER], [G_TAKER]):
        with probe_session(
            ctx, enabled, extra_dirs=(installed.plugin_dir,), static=False
        ) as session:
            loaded, errors = list(session.loaded), dict(session.load_errors)
            daemons = list(session.daemon_names())
        problems = []
        if G_FORK in enabled:
            if G_FORK not in loaded:
                problems.append(f"{G_FORK} did not load: {errors.get(G_FORK, 'no error')}")
            for name in (both, imported):
                if daemons.count(name) != 1:
                    problems.append(f"{daemons.count(name)} entries named {name}, not 1")
        if enabled == [G_FORK, G_TAKER]:
            error = errors.get(G_TAKER) or ""
            if G_TAKER in loaded or G_FORK not in error or G_TAKER not in error:
                problems.append(
                    f"{G_TAKER}, registering a different daemon under {imported}, loaded or "
                    f"failed without naming both owners ({error!r})"
                )
        if enabled == [G_TAKER] and (G_TAKER not in loaded or daemons.count(imported) != 1):
            problems.append(
                f"{G_TAKER} alone (the {imported} of {G_FORK}'s import is in the process "
                f"defaults, {G_FORK} not enabled): loaded {G_TAKER in loaded} "
                f"({errors.get(G_TAKER, 'no error')}), {daemons.count(imported)} entries"
            )
        if G_FORK not in enabled and both in daemons:
            problems.append(
                f"{both}, which {G_FORK}'s import registered, runs in a runtime that does not "
                f"load {G_FORK}"
            )
        if problems:
            ctx.fail(
                expected=f"with plugins.enabled = {enabled}: {G_FORK}'s import registers "
                f"{both} and {imported} into the process-default registry and its register "
                f"registers {both} again (the same daemon: a no-op); both are {G_FORK}'s, in a "
                f"runtime that loads it only; {G_TAKER} registers a different daemon under "
                f"{imported}",
                seen="; ".join(problems),
                detail=f"daemon names: {daemons}\ntake in what a plugin's own modules "
                "registered into the process defaults as that plugin's registrations",
            )
