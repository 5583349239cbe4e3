"""KC-RT-*: the runtime itself — precedence, fail-safe providers, fallback, entry points,
isolation, daemon names, the coordinator, the identity hook, provenance, the persona on the wire.

These checks drive the runtime under certification only through its adapter, never through the
reference runtime's internals, so a fork's runtime certifies through the same code: each starts
sessions over the kit's probe plugins and reads what the runtime did to them from the probes'
journal (:mod:`kora_conformance.suites.runtime._probing`), which it clears when it starts.
"""

from __future__ import annotations

import reprlib
from pathlib import Path
from typing import Final

from kora_conformance import CheckContext, Suite, always
from kora_conformance.harness import send_captured, system_texts
from kora_conformance.probes import journal
from kora_conformance.probes.common import (
    FATAL_DAEMONS,
    HANG_TIMEOUT,
    IDENTITIES,
    INTERVAL,
    LIFECYCLE_DAEMONS,
    RUN_SECONDS,
    SESSION_HOOK,
)
from kora_conformance.suites.runtime._probing import (
    ENTRY_POINT_GROUP,
    ENTRY_POINTS,
    ENV_PROMPT_PATH,
    describe_loading,
    first_index,
    install_entry_point_probes,
    names_of,
    prepare,
    probe_session,
    prompt_file,
    resolve,
    run_daemons,
    set_prompt_path_env,
    timeline,
    warnings_logged,
    whose_identity,
)

suite = Suite("runtime")

#: Slack (clock seconds) allowed beyond a hung shutdown's timeout before the next shutdown.
TIMEOUT_SLACK: Final = 1.5

_MESSAGES_PATH: Final = r"/v1/messages$"


# --- KC-RT-001 ----------------------------------------------------------------------------------


@suite.check("KC-RT-001", applies=always)
def precedence_follows_enabled(ctx: CheckContext) -> None:
    prepare(ctx)
    # probe_alpha sorts (and is discovered) first: enabling it second shows whether the runtime
    # follows plugins.enabled or discovery order; the reverse shows it is not reverse-sorting.
    for enabled in (["probe_zulu", "probe_alpha"], ["probe_alpha", "probe_zulu"]):
        with probe_session(ctx, enabled) as session:
            outcome = resolve(ctx, session, enabled)
            expected = enabled[0]
            if outcome.system_prompt != IDENTITIES[expected].system_prompt:
                ctx.fail(
                    expected=f"with plugins.enabled = {enabled}, {expected}'s identity (the "
                    "first valid provider in enabled order)",
                    seen=f"{whose_identity(outcome)} won",
                    detail=f"{describe_loading(session)}\nA loader that turns plugins.enabled "
                    "into a set and loads in discovery (alphabetical) order lets the "
                    "first-discovered plugin win.",
                )


# --- KC-RT-002 ----------------------------------------------------------------------------------


@suite.check("KC-RT-002", applies=always)
def bad_providers_skipped(ctx: CheckContext) -> None:
    prepare(ctx)
    scenarios = (
        (["probe_raises", "probe_zulu"], ["probe_raises"]),
        (["probe_wrong_type", "probe_zulu"], ["probe_wrong_type"]),
        (
            ["probe_declines", "probe_raises", "probe_wrong_type", "probe_zulu"],
            ["probe_raises", "probe_wrong_type"],
        ),
    )
    for enabled, bad in scenarios:
        with probe_session(ctx, enabled) as session, warnings_logged() as logged:
            try:
                outcome = session.resolve_identity()
            except Exception as exc:  # noqa: BLE001 - not isolating it is the finding
                ctx.fail(
                    expected=f"with plugins.enabled = {enabled}, {', '.join(bad)} skipped and "
                    "probe_zulu's identity used",
                    seen=f"resolve_identity raised {type(exc).__name__}: {exc}",
                    detail="wrap each provider: an exception or a return value that is not an "
                    "IdentitySpec becomes None, logged at WARNING with the plugin's name",
                )
            if outcome.system_prompt != IDENTITIES["probe_zulu"].system_prompt:
                ctx.fail(
                    expected=f"with plugins.enabled = {enabled}, probe_zulu's identity (the "
                    "next valid provider)",
                    seen=f"{whose_identity(outcome)} was used",
                    detail=describe_loading(session),
                )
            messages = logged.messages()
            unnamed = [name for name in bad if not any(name in m for m in messages)]
            if unnamed:
                shown = "\n".join(f"  {m}" for m in messages) or "  (none)"
                ctx.fail(
                    expected=f"a WARNING naming each skipped plugin ({', '.join(bad)})",
                    seen=f"no WARNING reaching the root logger names {', '.join(unnamed)}",
                    detail=f"WARNING records during resolution:\n{shown}",
                )


# --- KC-RT-003 ----------------------------------------------------------------------------------


@suite.check("KC-RT-003", applies=always)
def fallback_file(ctx: CheckContext) -> None:
    prepare(ctx)
    enabled = ["probe_declines"]
    default = prompt_file(ctx, "default-prompt.md", "DEFAULT fallback prompt (kit)\n")
    from_env = prompt_file(ctx, "env-prompt.md", "ENV fallback prompt (kit)\n")
    from_arg = prompt_file(ctx, "arg-prompt.md", "ARGUMENT fallback prompt (kit)\n")
    blank = prompt_file(ctx, "blank-prompt.md", "  \n\t\n")
    missing = ctx.sandbox.scratch / "missing-prompt.md"
    texts = {p: p.read_text(encoding="utf-8").strip() for p in (default, from_env, from_arg)}

    # (what, default path, KORA_SYSTEM_PROMPT_PATH, argument, the file that must be read)
    reads: tuple[tuple[str, Path, str | None, Path | None, Path], ...] = (
        ("only the default exists", default, None, None, default),
        (f"{ENV_PROMPT_PATH} beats the default", default, str(from_env), None, from_env),
        (f"the argument beats {ENV_PROMPT_PATH}", default, str(from_env), from_arg, from_arg),
        (f"a blank {ENV_PROMPT_PATH} is ignored", default, "  ", None, default),
    )
    for what, default_path, env, argument, expected in reads:
        set_prompt_path_env(env)
        with probe_session(ctx, enabled, default=default_path) as session:
            outcome = resolve(ctx, session, enabled, system_prompt_path=argument)
        if outcome.system_prompt.strip() != texts[expected]:
            seen = next((p for p, t in texts.items() if t == outcome.system_prompt.strip()), None)
            ctx.fail(
                expected=f"{what}: the fallback file {expected} is read "
                f"({reprlib.repr(texts[expected])})",
                seen=f"{seen} was read instead"
                if seen is not None
                else f"the prompt {reprlib.repr(outcome.system_prompt)}",
                detail=_setting(default_path, env, argument),
            )

    # (what, default path, KORA_SYSTEM_PROMPT_PATH, argument, the path the error must name)
    errors: tuple[tuple[str, Path, str | None, Path | None, Path], ...] = (
        ("a missing default file", missing, None, None, missing),
        (f"a blank file named by {ENV_PROMPT_PATH}", default, str(blank), None, blank),
        ("a missing file named by the argument", default, None, missing, missing),
    )
    for what, default_path, env, argument, named in errors:
        set_prompt_path_env(env)
        with probe_session(ctx, enabled, default=default_path) as session:
            try:
                outcome = session.resolve_identity(system_prompt_path=argument)
            except Exception as exc:  # noqa: BLE001 - any error type will do; its message counts
                message = str(exc)
            else:
                ctx.fail(
                    expected=f"{what}: an error naming {named}",
                    seen=f"resolution succeeded with the prompt "
                    f"{reprlib.repr(outcome.system_prompt)} (fail closed, never an empty or "
                    "substitute prompt)",
                    detail=_setting(default_path, env, argument),
                )
        absent = [w for w in (str(named), ENV_PROMPT_PATH) if w not in message]
        if absent:
            ctx.fail(
                expected=f"{what}: an error whose message names the path {named} and the "
                f"variable {ENV_PROMPT_PATH}",
                seen=f"the message lacks {' and '.join(absent)}: {message!r}",
                detail=_setting(default_path, env, argument),
            )


def _setting(default: Path, env: str | None, argument: Path | None) -> str:
    variable = "unset" if env is None else repr(env)
    return (
        f"default path: {default}\n{ENV_PROMPT_PATH}: {variable}\n"
        f"system_prompt_path argument: {argument if argument is not None else 'none'}\n"
        "no provider claims (plugins.enabled = ['probe_declines'])"
    )


# --- KC-RT-004 ----------------------------------------------------------------------------------


@suite.check("KC-RT-004", applies=always)
def both_entry_point_forms(ctx: CheckContext) -> None:
    prepare(ctx)
    install_entry_point_probes(ctx.sandbox.scratch)
    enabled = list(ENTRY_POINTS)
    with probe_session(ctx, enabled, groups=(ENTRY_POINT_GROUP,)) as session:
        loaded = list(session.loaded)
        errors = dict(session.load_errors)
        try:
            results = list(session.invoke_hook(SESSION_HOOK, session_id="kora-conformance"))
        except Exception as exc:  # noqa: BLE001 - reported as seen
            results = [f"invoke_hook raised {type(exc).__name__}: {exc}"]
    problems = []
    for name, value in ENTRY_POINTS.items():
        form = "module:register" if ":" in value else "module"
        if name not in loaded:
            why = errors.get(name, "not loaded, no error recorded")
            problems.append(f"{name} ({form} form, {name} = {value}) did not load: {why}")
        elif not journal.events("register", name):
            problems.append(f"{name} ({form} form) loaded but its register(ctx) was never called")
        elif name not in results:
            problems.append(
                f"{name} ({form} form) loaded but its {SESSION_HOOK} hook is not live "
                f"(invoke_hook returned {reprlib.repr(results)})"
            )
    if problems:
        ctx.fail(
            expected=f"both entry-point forms in {ENTRY_POINT_GROUP} to load and register "
            f"({', '.join(f'{k} = {v}' for k, v in ENTRY_POINTS.items())})",
            seen="; ".join(problems),
            detail="after ep.load(), use the object itself when it is callable, else its "
            "register attribute",
        )


# --- KC-RT-005 ----------------------------------------------------------------------------------

HALF: Final = "probe_half_register"
HALF_DAEMON: Final = "kc_probe.half"
IMPORT_ERROR: Final = "probe_import_error"


@suite.check("KC-RT-005", applies=always)
def failing_plugins_isolated(ctx: CheckContext) -> None:
    prepare(ctx)
    enabled = [HALF, IMPORT_ERROR, "probe_zulu"]
    problems = []
    with probe_session(ctx, enabled) as session:
        loaded = list(session.loaded)
        errors = dict(session.load_errors)
        for name in (HALF, IMPORT_ERROR):
            if name in loaded:
                problems.append(f"{name} is reported as loaded")
            if not errors.get(name, "").strip():
                problems.append(f"no load error is recorded for {name}")
        if "probe_zulu" not in loaded:
            why = errors.get("probe_zulu", "no error recorded")
            problems.append(f"the healthy probe_zulu did not load ({why})")
        try:
            outcome = session.resolve_identity()
        except Exception as exc:  # noqa: BLE001 - reported as seen
            problems.append(f"resolve_identity raised {type(exc).__name__}: {exc}")
        else:
            if outcome.system_prompt != IDENTITIES["probe_zulu"].system_prompt:
                problems.append(f"{whose_identity(outcome)} won, not probe_zulu's")
        try:
            results = list(session.invoke_hook(SESSION_HOOK, session_id="kora-conformance"))
        except Exception as exc:  # noqa: BLE001 - reported as seen
            problems.append(f"invoke_hook({SESSION_HOOK!r}) raised {type(exc).__name__}: {exc}")
            results = []
        if journal.events("hook", HALF) or HALF in results:
            problems.append(f"{HALF}'s {SESSION_HOOK} hook was invoked")
        if "probe_zulu" not in results:
            problems.append(f"probe_zulu's {SESSION_HOOK} hook was not invoked ({results!r})")
        daemons = list(session.daemon_names())
        listeners = list(session.listener_names())
        if HALF_DAEMON in daemons or HALF_DAEMON in listeners:
            problems.append(f"{HALF}'s daemon {HALF_DAEMON} is still registered")
        loading = describe_loading(session)
    if problems:
        ctx.fail(
            expected=f"with plugins.enabled = {enabled}: {HALF} (raises half-way through "
            f"register) and {IMPORT_ERROR} (raises at import) recorded as failed, everything "
            f"{HALF} registered rolled back (hook, identity provider, daemon {HALF_DAEMON}), "
            "probe_zulu loaded",
            seen="; ".join(problems),
            detail=loading,
        )


# --- KC-RT-006 ----------------------------------------------------------------------------------

CLAIM_FIRST: Final = "probe_dm_claim_first"
CLAIM_SECOND: Final = "probe_dm_claim_second"
SHARED_DAEMON: Final = "kc_probe.shared"
TWICE: Final = "probe_dm_twice"
TWICE_DAEMON: Final = "kc_probe.twice"


@suite.check("KC-RT-006", applies=always)
def daemon_name_ownership(ctx: CheckContext) -> None:
    prepare(ctx)
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

    enabled = [CLAIM_FIRST, CLAIM_SECOND]
    with probe_session(ctx, enabled) as session:
        loaded = list(session.loaded)
        errors = dict(session.load_errors)
        daemons = list(session.daemon_names())
    clash = (
        f"{CLAIM_SECOND} registers a different daemon under {SHARED_DAEMON}, "
        f"which {CLAIM_FIRST} already holds"
    )
    if CLAIM_FIRST not in loaded:
        ctx.fail(
            expected=f"{CLAIM_FIRST}, first to claim {SHARED_DAEMON}, to load",
            seen=f"it did not: {errors.get(CLAIM_FIRST, 'no error recorded')}",
        )
    error = errors.get(CLAIM_SECOND)
    if CLAIM_SECOND in loaded or error is None:
        ctx.fail(
            expected=f"{clash}: a load error for {CLAIM_SECOND} naming both owners",
            seen=f"{CLAIM_SECOND} loaded without error"
            if CLAIM_SECOND in loaded
            else f"{CLAIM_SECOND} did not load, but no error is recorded",
            detail=f"daemon names: {daemons}\nthe fork swallowed every duplicate error, which "
            "also hid real name clashes; ignore only an identical repeat",
        )
    unnamed = [name for name in (CLAIM_FIRST, CLAIM_SECOND) if name not in error]
    if unnamed:
        ctx.fail(
            expected=f"{clash}: an error naming both owners ({CLAIM_FIRST}, {CLAIM_SECOND})",
            seen=f"the error does not name {', '.join(unnamed)}: {error!r}",
        )
    if daemons.count(SHARED_DAEMON) != 1:
        ctx.fail(
            expected=f"{clash}: {SHARED_DAEMON} registered once, by {CLAIM_FIRST}",
            seen=f"{daemons.count(SHARED_DAEMON)} entries (daemon names: {daemons})",
        )


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
    problems += _hang_problems(events, hang)
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


def _hang_problems(events: list[journal.Event], hang: str) -> list[str]:
    begun = first_index(events, "shutdown", hang)
    if begun is None:
        return []
    released = first_index(events, "shutdown_released", hang)
    following = next(
        (i for i, e in enumerate(events) if i > begun and e.kind == "shutdown" and e.who != hang),
        None,
    )
    problems = []
    if released is not None and (following is None or released < following):
        problems.append(
            f"{hang}'s shutdown, which hangs, was awaited until it gave up by itself: it must "
            f"be bounded by its shutdown_timeout ({HANG_TIMEOUT:g} s)"
        )
    elif following is not None:
        waited = events[following].at - events[begun].at
        if waited > HANG_TIMEOUT + TIMEOUT_SLACK:
            problems.append(
                f"the next shutdown began {waited:.1f} s after {hang}'s hung shutdown, beyond "
                f"its timeout of {HANG_TIMEOUT:g} s"
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


# --- KC-RT-008 ----------------------------------------------------------------------------------


@suite.check("KC-RT-008", applies=always)
def identity_hook_fired_once(ctx: CheckContext) -> None:
    prepare(ctx)
    enabled = ["probe_declines", "probe_zulu"]
    with probe_session(ctx, enabled) as session:
        engines: list[object] = []
        for _ in range(2):
            try:
                engines.append(session.build_engine())
            except Exception as exc:  # noqa: BLE001 - reported as seen
                ctx.fail(
                    expected=f"the engine to build with plugins.enabled = {enabled}",
                    seen=f"build_engine raised {type(exc).__name__}: {exc}",
                )
    for probe in enabled:
        calls = journal.events("identity", probe)
        if len(calls) != len(engines):
            ctx.fail(
                expected=f"{probe}'s identity provider called once per engine construction "
                f"({len(engines)} constructions)",
                seen=f"{probe}'s provider was called {len(calls)} times for {len(engines)} "
                "engine constructions",
                detail=timeline(journal.events()),
            )
        for n, (call, engine) in enumerate(zip(calls, engines, strict=True), 1):
            received = call.data.get("engine")
            if received is not engine:
                ctx.fail(
                    expected=f"{probe}'s provider to receive engine=<the engine being built> "
                    f"at construction {n}",
                    seen=f"engine={reprlib.repr(received)}, not the engine build_engine "
                    f"returned ({reprlib.repr(engine)})",
                )


# --- KC-RT-009 ----------------------------------------------------------------------------------


@suite.check("KC-RT-009", applies=always)
def identity_source_reported(ctx: CheckContext) -> None:
    prepare(ctx)
    enabled = ["probe_declines", "probe_zulu"]
    with probe_session(ctx, enabled) as session:
        outcome = resolve(ctx, session, enabled)
    if outcome.source != "plugin" or outcome.plugin != "probe_zulu":
        ctx.fail(
            expected="the resolved identity to report source='plugin', plugin='probe_zulu'",
            seen=f"source={outcome.source!r}, plugin={outcome.plugin!r}",
        )
    default = prompt_file(ctx, "default-prompt.md", "DEFAULT fallback prompt (kit)\n")
    with probe_session(ctx, ["probe_declines"], default=default) as session:
        outcome = resolve(ctx, session, ["probe_declines"])
    path = outcome.path
    if outcome.source != "file" or path is None or Path(path).resolve() != default.resolve():
        ctx.fail(
            expected=f"the fallback identity to report source='file', path={str(default)!r}",
            seen=f"source={outcome.source!r}, path={None if path is None else str(path)!r}",
        )


# --- KC-RT-010 ----------------------------------------------------------------------------------


@suite.check("KC-RT-010", applies=always)
def persona_on_the_wire(ctx: CheckContext) -> None:
    prepare(ctx)
    zulu = IDENTITIES["probe_zulu"]
    with probe_session(ctx, ["probe_zulu"]) as session:
        try:
            engine = session.build_engine()
        except Exception as exc:  # noqa: BLE001 - reported as seen
            ctx.fail(
                expected="the engine to build with probe_zulu's identity",
                seen=f"build_engine raised {type(exc).__name__}: {exc}",
            )
        sent = send_captured(lambda text: session.send(engine, text), path__regex=_MESSAGES_PATH)
    if sent.body is None:
        ctx.fail(
            expected="one Messages API request (POST .../v1/messages) carrying the identity",
            seen=f"no request reached the wire ({type(sent.error).__name__}: {sent.error})",
        )
    system = sent.body.get("system")
    text = "\n".join(system_texts(system))
    persona_at, prompt_at = text.find(zulu.persona), text.find(zulu.system_prompt)
    if persona_at < 0 or prompt_at < 0 or persona_at > prompt_at:
        where = (
            "missing"
            if persona_at < 0
            else "after the system prompt"
            if persona_at > prompt_at >= 0
            else "present"
        )
        ctx.fail(
            expected=f"the request's system content to carry probe_zulu's persona "
            f"({reprlib.repr(zulu.persona)}) and then its system prompt",
            seen=f"the persona is {where}; system = {reprlib.repr(system)}",
        )
