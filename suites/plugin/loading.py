"""KC-PL-001 to KC-PL-006: the plugin as a package — discovery, manifest, hooks, network,
reloads.

The hook checks (KC-PL-003, KC-PL-004) judge every hook the plugin registers, not only those
its ``register`` makes: the kit also builds an identity and fires each hook it registered, as a
host would, and loads it into a second runtime (:func:`_hook_names`). The reload check compares
the registrations themselves (:mod:`kora_conformance.harness._reload`).
"""

from __future__ import annotations

import contextlib
import difflib
import threading
import time
from pathlib import Path

from kora_conformance import CheckContext, Suite, always, needs_load
from kora_conformance.harness import (
    describe_changes,
    load_after_reload,
    registrations,
    reload_or_fail,
)
from kora_conformance.suites.identity._claimants import ProbeEngine
from kora_conformance.suites.plugin._surface_probes import hook_payload
from reference_runtime import (
    IDENTITY_HOOK,
    KNOWN_HOOKS,
    LoadedPlugin,
    Manifest,
    ManifestError,
    load_manifest,
)

suite = Suite("plugin")


@suite.check("KC-PL-001", applies=always)
def discoverable_and_loadable(ctx: CheckContext) -> None:
    """Space: the declared route (a directory, an entry point to a module, an entry point to
    ``register`` itself); the first load in the process, and a load into a second fresh runtime
    of the same process (hosts and tests run several runtimes; the module is imported once)."""
    _, _, plugin = ctx.load()
    if plugin.route != ctx.target.route:
        ctx.fail(
            expected=f"the plugin to load by its declared route ({ctx.target.route})",
            seen=f"it loaded by the {plugin.route} route instead ({plugin.origin})",
        )
    report = ctx.runtime().load()
    if report.plugin(ctx.target.name) is None:
        why = report.errors.get(ctx.target.name) or "it was not found"
        ctx.fail(
            expected="the plugin to load into every fresh runtime of the process",
            seen=f"it loaded into the first runtime, but not into a second one: {why}",
            detail="register(ctx) must not depend on being called once per process (a "
            "module-level 'already registered' flag, a resource taken at the first call)",
        )


def _manifest_file(ctx: CheckContext) -> Path | None:
    """The plugin's ``plugin.yaml``: its directory's, or, for an entry point, the one shipped
    beside the entry point's module (in its package or an enclosing one)."""
    if ctx.profile.manifest_path is not None:
        return ctx.profile.manifest_path
    return ctx.target.manifest_path


def _key_source(ctx: CheckContext) -> str:
    if ctx.target.route == "entry_point":
        return "its entry point's name"
    return "its manifest's name, as its directory is enabled by"


@suite.check("KC-PL-002", applies=always)
def valid_manifest(ctx: CheckContext) -> None:
    """Space: the manifest of every route — a directory's ``plugin.yaml``/``plugin.yml``, and
    the one an entry-point plugin ships beside its module — valid (2.2); a directory plugin's
    names the key it is enabled by (an entry point's key is its name, whatever it ships)."""
    path = _manifest_file(ctx)
    if path is None:
        ctx.skip("the plugin has no plugin.yaml (an entry-point plugin without a manifest)")
    try:
        manifest = load_manifest(path)
    except ManifestError as exc:
        ctx.fail(expected="a valid manifest (contract 2.2)", seen=str(exc))
    # An entry-point plugin is keyed by its entry point's name, whatever its package's own
    # plugin.yaml calls it (the host builds its manifest from the distribution's metadata).
    if ctx.target.route == "directory" and manifest.name != ctx.target.name:
        ctx.fail(
            expected=f"name: {ctx.target.name} (the key the plugin is enabled by: "
            f"{_key_source(ctx)})",
            seen=f"name: {manifest.name} in {path}",
        )


def _hook_names(ctx: CheckContext) -> tuple[LoadedPlugin, list[str]]:
    """Every hook name the plugin registers, first registration first: at load; while a host
    uses it (an identity built, each hook it registered fired with its usual keywords, through
    the live context); and loaded again into a second fresh runtime."""
    runtime, _, plugin = ctx.load()
    with contextlib.suppress(Exception):  # declining everything, or raising, is not this rule's
        runtime.resolve_identity(engine=ProbeEngine())
    for name in plugin.hook_names:
        if name != IDENTITY_HOOK:
            # The dispatcher isolates each callback's exceptions; this only guards the rest.
            with contextlib.suppress(Exception):
                runtime.invoke_hook(name, **hook_payload(name))
    names = [*plugin.hook_names]
    context = runtime.context(plugin.key)
    if context is not None:
        names += [name for name, _ in context.hooks]
    again = ctx.runtime().load().plugin(ctx.target.name)
    if again is not None:
        names += again.hook_names
    return plugin, list(dict.fromkeys(names))


@suite.check("KC-PL-003", applies=needs_load)
def known_hooks_only(ctx: CheckContext) -> None:
    """Space: every hook name the plugin registers, however spelt or computed (the runtime
    sees the name, not the source): in ``register``, later while the host uses it (from a
    callback, through the context it kept), and in a second runtime's ``register``."""
    _, names = _hook_names(ctx)
    unknown = [name for name in names if name not in KNOWN_HOOKS]
    if unknown:
        hints = []
        for name in unknown:
            close = difflib.get_close_matches(name, KNOWN_HOOKS, n=1)
            hints.append(f"{name!r} (did you mean {close[0]!r}?)" if close else repr(name))
        ctx.fail(
            expected="only hook names the runtime knows",
            seen=f"registered unknown hook(s) {', '.join(hints)}",
            detail="known hooks: " + ", ".join(sorted(KNOWN_HOOKS)),
        )


def _declared(ctx: CheckContext, plugin: LoadedPlugin) -> Manifest | None:
    """The manifest whose ``hooks``/``provides_hooks`` the plugin declares: the one it loaded
    with (a directory's), or, for an entry point, the file beside its module."""
    if plugin.route == "directory":
        return plugin.manifest
    path = _manifest_file(ctx)
    if path is None:
        return None
    try:
        return load_manifest(path)
    except ManifestError:
        return None  # KC-PL-002's finding


@suite.check("KC-PL-004", applies=needs_load)
def manifest_declares_hooks(ctx: CheckContext) -> None:
    """Space: both directions (declared but never registered, registered but not declared),
    over ``hooks`` and ``provides_hooks`` of the manifest of either route, against every hook
    the plugin registers (at load, while used, in a second runtime: see KC-PL-003)."""
    plugin, names = _hook_names(ctx)
    manifest = _declared(ctx, plugin)
    if manifest is None:
        ctx.skip("the plugin has no plugin.yaml (an entry-point plugin without a manifest)")
    declared = set(manifest.hooks)
    registered = set(names)
    if declared == registered:
        return
    problems = []
    if undeclared := sorted(registered - declared):
        problems.append(f"registered but not declared: {', '.join(undeclared)}")
    if unregistered := sorted(declared - registered):
        problems.append(f"declared but not registered: {', '.join(unregistered)}")
    ctx.fail(
        expected=f"manifest hooks == registered hooks ({', '.join(sorted(registered)) or 'none'})",
        seen="; ".join(problems),
    )


#: How long threads the plugin started while loading may go on under the guard.
THREAD_GRACE_SECONDS = 1.0


@suite.check("KC-PL-005", applies=always)
def no_network_at_import(ctx: CheckContext) -> None:
    """Space: every route out of the process while the plugin imports and registers — Python
    sockets and ``_socket`` directly, name look-ups, listening sockets, UDP, child processes
    (``subprocess``, ``os.system``, ``exec``, ``spawn``, ``fork``), ``ctypes`` networking symbols
    — and the same from threads the plugin starts, for a grace period after loading."""
    # The sandbox's guard has been active since the check started (in a fresh process), so this
    # load imports the plugin for the first time, under the guard.
    before = set(threading.enumerate())
    report = ctx.runtime().load()
    deadline = time.monotonic() + THREAD_GRACE_SECONDS
    for thread in set(threading.enumerate()) - before:
        thread.join(max(0.0, deadline - time.monotonic()))
    attempts = ctx.sandbox.network.attempts
    if attempts:
        error = report.errors.get(ctx.target.name)
        outcome = (
            f"the plugin then failed to load: {error}"
            if error
            else "the plugin caught the blocked attempt and loaded"
        )
        ctx.fail(
            expected="no network access, listening socket or child process while importing and "
            "registering the plugin",
            seen=f"{len(attempts)} attempt(s) blocked: {', '.join(attempts)}",
            detail=outcome,
        )
    if report.plugin(ctx.target.name) is None:
        ctx.skip("the plugin does not load (see KC-PL-001)")


@suite.check("KC-PL-006", applies=needs_load)
def reload_safe(ctx: CheckContext) -> None:
    """Space: every kind of registration (hooks, identity providers, tools, commands,
    middleware and the rest of the Hermes surface; daemons and listeners are KC-DM-004's),
    compared as what each holds (kind, key, the qualified names of its callables, its other
    arguments) with their counts: a first load, then registering into a fresh runtime after
    one ``importlib.reload`` of the plugin's modules, and after a second one. The same
    registrations each time: nothing doubled, dropped or swapped for another callable, and no
    error."""
    runtime, _, first = ctx.load()
    before = registrations(runtime, first)
    for attempt in ("one reload", "a second reload"):
        names = reload_or_fail(ctx, first)
        again = ctx.runtime()
        second = load_after_reload(ctx, again, names)
        after = registrations(again, second)
        if after != before:
            ctx.fail(
                expected="the same registrations after a reload as at the first load",
                seen=f"after {attempt} of {names}: {describe_changes(before, after)}",
                detail="state kept outside the reloaded module (a submodule, sys, builtins) "
                "survives importlib.reload and doubles or changes the registrations",
            )
