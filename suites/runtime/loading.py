"""KC-RT-004 and KC-RT-005: loading plugins of every form, and isolating the failing ones."""

from __future__ import annotations

import reprlib
from collections.abc import Sequence
from typing import Final

from kora_conformance import CheckContext, Suite, always
from kora_conformance.adapter import RuntimeSession
from kora_conformance.probes import generated, journal
from kora_conformance.probes.common import IDENTITIES, SESSION_HOOK
from kora_conformance.suites.runtime._generated import Form, Installed, install
from kora_conformance.suites.runtime._probing import (
    ENTRY_POINT_GROUP,
    ENTRY_POINTS,
    describe_loading,
    install_entry_point_probes,
    prepare,
    probe_session,
    whose_identity,
)
from kora_conformance.suites.runtime._untrusted import (
    HEALTHY_DIRECTORY,
    distribution_problems,
    search_root_problems,
)

suite = Suite("runtime")


# --- KC-RT-004 ----------------------------------------------------------------------------------

#: Generated plugins of both entry-point forms among directory plugins; the callable form's
#: target is ``setup_plugin`` (its module's ``register`` is a decoy), the module form's module
#: has a decoy ``setup_plugin``.
FORM_POOL: Final[tuple[tuple[str, Form], ...]] = (
    ("kcf_papa", "callable"),
    ("kcf_quebec", "directory"),
    ("kcf_romeo", "module"),
    ("kcf_sierra", "callable"),
    ("kcf_tango", "module"),
)


def _static_forms(ctx: CheckContext) -> None:
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


def _form_problems(ctx: CheckContext, installed: Installed, enabled: Sequence[str]) -> list[str]:
    journal.clear()
    with probe_session(
        ctx, enabled, groups=installed.groups, extra_dirs=(installed.plugin_dir,), static=False
    ) as session:
        loaded = list(session.loaded)
        errors = dict(session.load_errors)
        try:
            results = list(session.invoke_hook(SESSION_HOOK, session_id="kora-conformance"))
        except Exception as exc:  # noqa: BLE001 - reported as seen
            results = [f"invoke_hook raised {type(exc).__name__}: {exc}"]
    problems = []
    for name in enabled:
        plugin = installed.by_name(name)
        real = "setup_plugin" if plugin.form == "callable" else "register"
        calls = [e.data.get("attribute") for e in journal.events("register", name)]
        if name not in loaded:
            why = errors.get(name, "not loaded, no error recorded")
            problems.append(f"{plugin.describe()} did not load: {why}")
        elif journal.events("decoy", name):
            other = "register" if real == "setup_plugin" else "setup_plugin"
            problems.append(
                f"{plugin.describe()}: the runtime called the module's {other}, not {real}"
            )
        elif calls != [real]:
            problems.append(f"{plugin.describe()}: its {real}(ctx) was called {len(calls)} times")
        elif name not in results:
            problems.append(f"{plugin.describe()}: its {SESSION_HOOK} hook is not live")
    return problems


@suite.check("KC-RT-004", applies=always)
def both_entry_point_forms(ctx: CheckContext) -> None:
    """Space: both entry-point forms (a module, whose ``register`` is called; ``module:attr``
    naming the register callable under any name, here ``setup_plugin`` beside a decoy
    ``register``), each form first and last among directory plugins, in a first and a second
    runtime of one process (the modules already imported): each loads, with its own register
    called once and its hooks live (the callable form's hook a coroutine function, awaited);
    and good entry points of distributions with broken metadata (a line without ``=`` in
    ``entry_points.txt``, a ``METADATA`` that is not UTF-8) beside one whose
    ``entry_points.txt`` is not UTF-8: the good ones load, and warnings name the distribution,
    file and line."""
    prepare(ctx)
    _static_forms(ctx)
    untrusted = distribution_problems(ctx)
    if untrusted:
        ctx.fail(
            expected="installed distributions with broken metadata to cost only themselves: "
            "their good entry points load, and a warning names the distribution, file and line",
            seen="; ".join(untrusted),
            detail="read each distribution's entry points on its own, line by line when the "
            "standard parser gives up on the file",
        )
    installed = install(ctx, FORM_POOL, label="forms")
    names = [name for name, _ in FORM_POOL]
    # The last: a second runtime in the same order, the entry points' modules already imported.
    scenarios = [names, list(reversed(names)), names]
    for enabled in scenarios:
        problems = _form_problems(ctx, installed, enabled)
        if problems:
            ctx.fail(
                expected=f"with plugins.enabled = {enabled}, every plugin to load through the "
                "form its entry point names",
                seen="; ".join(problems),
                detail="after ep.load(), use the object itself when it is callable (whatever "
                "its name), else the module's register attribute",
            )


# --- KC-RT-005 ----------------------------------------------------------------------------------

HALF: Final = "probe_half_register"
HALF_DAEMON: Final = "kc_probe.half"
IMPORT_ERROR: Final = "probe_import_error"

#: Generated: one fails half-way through register having registered every kind, one fails at
#: import having registered a daemon into the process defaults, two are healthy (the twin
#: registers the tool and the command the half-registering one registered).
G_HALF: Final = "kcr_half"
G_BROKEN: Final = "kcr_broken"
G_TWIN: Final = "kcr_twin"
G_HEALTHY: Final = "kcr_healthy"
ISOLATION_ORDERS: Final = (
    [G_HALF, G_BROKEN, G_TWIN, G_HEALTHY],
    [G_TWIN, G_HALF, G_HEALTHY, G_BROKEN],
    [G_HEALTHY, G_TWIN, G_BROKEN, G_HALF],
    [G_HALF, G_BROKEN, G_TWIN, G_HEALTHY],  # again: a second runtime, the modules re-imported
)


def _static_isolation(ctx: CheckContext) -> None:
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


def _winner_problems(session: RuntimeSession) -> list[str]:
    """The half-registered identity must not win; a healthy plugin's must (which one is
    KC-RT-001's question)."""
    try:
        outcome = session.resolve_identity()
    except Exception as exc:  # noqa: BLE001 - reported as seen
        return [f"resolve_identity raised {type(exc).__name__}: {exc}"]
    healthy = {generated.identity_of(n).system_prompt for n in (G_TWIN, G_HEALTHY)}
    if outcome.system_prompt == generated.identity_of(G_HALF).system_prompt:
        return [f"{G_HALF}'s identity won, although it failed to register"]
    if outcome.system_prompt not in healthy:
        return [f"neither {G_TWIN}'s nor {G_HEALTHY}'s identity won"]
    return []


def _isolation_problems(
    ctx: CheckContext, installed: Installed, enabled: Sequence[str]
) -> tuple[list[str], str]:
    journal.clear()
    names = generated.half_names(G_HALF)
    problems = []
    with probe_session(ctx, enabled, extra_dirs=(installed.plugin_dir,), static=False) as session:
        loaded = list(session.loaded)
        errors = dict(session.load_errors)
        loading = describe_loading(session)
        for name in (G_HALF, G_BROKEN):
            if name in loaded:
                problems.append(f"{name} is reported as loaded")
            elif not errors.get(name, "").strip():
                problems.append(f"no load error is recorded for {name}")
        for name in (G_TWIN, G_HEALTHY):
            if name not in loaded:
                why = errors.get(name, "no error recorded")
                problems.append(f"the healthy {name} did not load ({why})")
        problems += _winner_problems(session)
        try:
            ended = list(session.invoke_hook(names["hook"], session_id="kora-conformance"))
        except Exception as exc:  # noqa: BLE001 - reported as seen
            ended = [f"raised {type(exc).__name__}: {exc}"]
        if ended:
            problems.append(f"{G_HALF}'s {names['hook']} hook is still live ({ended!r})")
        daemons, listeners = list(session.daemon_names()), list(session.listener_names())
        kept = [f"daemon {names['daemon']}"] if names["daemon"] in daemons else []
        kept += [f"listener {names['listener']}"] if names["listener"] in listeners else []
        dual = names["dual"]
        kept += [f"dual listener {dual}"] if dual in daemons or dual in listeners else []
        broken_daemon = installed.by_name(G_BROKEN).import_daemon
        if broken_daemon in daemons:
            problems.append(
                f"{G_BROKEN}'s import failed after registering {broken_daemon} into the "
                "process-default registry, and the runtime still runs it"
            )
        if kept:
            problems.append(f"{G_HALF}'s {' and '.join(kept)} still registered")
    return problems, loading


@suite.check("KC-RT-005", applies=always)
def failing_plugins_isolated(ctx: CheckContext) -> None:
    """Space: broken entries of a search root, each enabled (no manifest, ``plugin.yaml`` a
    directory, a private name, a manifest naming the plugin differently, a dangling symlink, a
    symlink loop), beside a healthy plugin: each reported with its path (and the other name),
    the healthy one loaded; a plugin failing half-way through register after registering
    every kind (hook, identity provider, daemon, listener, tool, command) and one failing at
    import after registering a daemon into the process defaults, first, in the middle and last
    among healthy ones, then again in a second runtime (the failed modules imported afresh): each
    failure recorded, nothing of the failed plugins left, the healthy ones loaded (one of them
    re-registering the failed plugin's tool and command names); then the plugin whose import
    failed, fixed, in a further runtime: its import registers the same daemon into the process
    defaults again and it loads with that daemon as its one entry (nothing its failed imports
    registered lingers); and a healthy plugin registering a hook through the context it kept,
    after register returned (it applies at once)."""
    prepare(ctx)
    _static_isolation(ctx)
    untrusted = search_root_problems(ctx)
    if untrusted:
        ctx.fail(
            expected=f"broken entries of a search root, each enabled, to cost only themselves "
            f"({HEALTHY_DIRECTORY} beside them loads), each reported with the reason it was "
            "passed over, naming its path",
            seen="; ".join(untrusted),
            detail="record why discovery passed over each entry, by the name it would be "
            "enabled by, and report it when that name is enabled",
        )
    installed = install(
        ctx,
        [(n, "directory") for n in (G_HALF, G_BROKEN, G_TWIN, G_HEALTHY)],
        import_fails=(G_BROKEN,),
        label="isolation",
    )
    generated.REGISTER.clear()
    generated.REGISTER.update({G_HALF: "half", G_TWIN: f"twin:{G_HALF}"})
    for enabled in ISOLATION_ORDERS:
        problems, loading = _isolation_problems(ctx, installed, enabled)
        if problems:
            ctx.fail(
                expected=f"with plugins.enabled = {enabled}: {G_HALF} (raises in register "
                f"after registering a {', a '.join(generated.HALF_KINDS)}) and {G_BROKEN} "
                "(raises at import) recorded as failed and everything they registered rolled "
                "back; the healthy plugins loaded",
                seen="; ".join(problems),
                detail=f"{loading}\nstage a plugin's registrations (daemons, listeners, tools, "
                "commands, hooks) and commit them only when register(ctx) returns",
            )
    _fixed_copy(ctx, installed)
    _late_registration(ctx, installed)


def _late_registration(ctx: CheckContext, installed: Installed) -> None:
    """A healthy plugin that kept its context registers a hook from its session hook, after
    ``register`` returned: it takes effect at once."""
    generated.REGISTER[G_HEALTHY] = "late"
    late = generated.HALF_HOOK
    with probe_session(
        ctx, [G_HEALTHY], extra_dirs=(installed.plugin_dir,), static=False
    ) as session:
        try:
            session.invoke_hook(SESSION_HOOK, session_id="kora-conformance")
            results = list(session.invoke_hook(late, session_id="kora-conformance"))
        except Exception as exc:  # noqa: BLE001 - reported as seen
            results = [f"invoke_hook raised {type(exc).__name__}: {exc}"]
    if G_HEALTHY not in results:
        ctx.fail(
            expected=f"{G_HEALTHY}, which registers a {late} hook through the context it kept "
            f"once its {SESSION_HOOK} hook runs (after register returned), to have that hook "
            "live",
            seen=f"invoke_hook({late!r}) returned {results!r}",
            detail="once a plugin's registrations are committed, what it registers later "
            "through its context applies at once",
        )


def _fixed_copy(ctx: CheckContext, installed: Installed) -> None:
    """The failed plugin fixed: its import, registering the same daemon into the process
    defaults again, now succeeds; nothing its failed imports left behind may stop it."""
    generated.REGISTER[G_BROKEN] = "fixed"
    daemon = installed.by_name(G_BROKEN).import_daemon
    enabled = [G_BROKEN, G_HEALTHY]
    with probe_session(ctx, enabled, extra_dirs=(installed.plugin_dir,), static=False) as session:
        loaded, errors = list(session.loaded), dict(session.load_errors)
        daemons = list(session.daemon_names())
    if G_BROKEN not in loaded or daemons.count(daemon) != 1:
        ctx.fail(
            expected=f"with plugins.enabled = {enabled}, the fixed {G_BROKEN} (its import "
            f"registers {daemon} into the process-default registry and returns) to load, "
            f"with {daemon} its one daemon entry",
            seen=f"loaded: {loaded}; errors: {errors}; daemon names: {daemons}",
            detail="roll back what a failed import registered into the process defaults, so a "
            "fixed copy registers afresh, and take in what a loading plugin's import registered "
            "there",
        )
