"""KC-PL-*: the plugin as a package — discovery, manifest, hooks, network, reloads."""

from __future__ import annotations

import difflib
import threading
import time
from collections import Counter

from kora_conformance._check import (
    CheckContext,
    Suite,
    all_of,
    always,
    needs_load,
    needs_manifest,
)
from kora_conformance._reload import load_after_reload, reload_or_fail
from reference_runtime import KNOWN_HOOKS, LoadedPlugin, ManifestError, load_manifest

suite = Suite("plugin")


def _hook_counts(plugin: LoadedPlugin) -> Counter[str]:
    return Counter(name for name, _ in plugin.hooks)


def _describe_counts(counts: Counter[str], providers: int) -> str:
    hooks = ", ".join(f"{name} x{n}" for name, n in sorted(counts.items())) or "no hooks"
    return f"{hooks}; {providers} identity provider(s)"


@suite.check("KC-PL-001", applies=always)
def discoverable_and_loadable(ctx: CheckContext) -> None:
    _, _, plugin = ctx.load()
    if plugin.route != ctx.target.route:
        ctx.fail(
            expected=f"the plugin to load by its declared route ({ctx.target.route})",
            seen=f"it loaded by the {plugin.route} route instead ({plugin.origin})",
        )


@suite.check("KC-PL-002", applies=needs_manifest)
def valid_manifest(ctx: CheckContext) -> None:
    path = ctx.profile.manifest_path
    assert path is not None
    try:
        manifest = load_manifest(path)
    except ManifestError as exc:
        ctx.fail(expected="a valid manifest (contract 2.2)", seen=str(exc))
    # An entry-point plugin is keyed by its entry point's name, whatever its package's own
    # plugin.yaml calls it (the host builds its manifest from the distribution's metadata).
    if ctx.target.route == "directory" and manifest.name != ctx.target.name:
        ctx.fail(
            expected=f"name: {ctx.target.name} (the key the plugin is enabled by, its directory)",
            seen=f"name: {manifest.name} in {path}",
        )


@suite.check("KC-PL-003", applies=needs_load)
def known_hooks_only(ctx: CheckContext) -> None:
    _, _, plugin = ctx.load()
    unknown = [name for name in plugin.hook_names if name not in KNOWN_HOOKS]
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


@suite.check("KC-PL-004", applies=all_of(needs_load, needs_manifest))
def manifest_declares_hooks(ctx: CheckContext) -> None:
    _, _, plugin = ctx.load()
    manifest = plugin.manifest
    if ctx.target.route == "entry_point":
        # The hooks it declares are in the plugin.yaml its package ships.
        path = ctx.profile.manifest_path
        assert path is not None  # needs_manifest
        try:
            manifest = load_manifest(path)
        except ManifestError:
            ctx.skip("its plugin.yaml is not valid (see KC-PL-002)")
    declared = set(manifest.hooks)
    registered = set(plugin.hook_names)
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
    _, _, first = ctx.load()
    before = _hook_counts(first), len(first.identity_providers)
    names = reload_or_fail(ctx, first)
    second = load_after_reload(ctx, ctx.runtime(), names)
    after = _hook_counts(second), len(second.identity_providers)
    if after != before:
        ctx.fail(
            expected=f"the same registrations after the reload ({_describe_counts(*before)})",
            seen=f"after reloading {names}: {_describe_counts(*after)}",
            detail="state kept outside the reloaded module (a submodule, sys, builtins) "
            "survives importlib.reload and doubles the registrations",
        )
