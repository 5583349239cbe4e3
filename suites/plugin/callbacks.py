"""KC-PL-007 to KC-PL-009: the plugin's callbacks as the host calls them.

Hook callbacks, middleware, tool and command handlers and memory-provider methods are called for
real, as the host calls them (keywords only for hooks, a sample payload, an unknown extra
keyword, awaitables awaited), with the sandbox's network guard on, and the calls with the
unknown keyword are compared with the calls without it. What the hooks whose results the host
interprets return, for a range of payloads, is held against the documented shapes.
"""

from __future__ import annotations

import functools
from collections.abc import Iterator
from typing import Any, Final

from kora_conformance import (
    CheckContext,
    Profile,
    Suite,
    needs_callbacks,
    needs_commands,
    needs_load,
)
from kora_conformance.suites.plugin._bounded import BoundedCalls
from kora_conformance.suites.plugin._payloads import payload_variants
from kora_conformance.suites.plugin._surface_probes import (
    MEMORY_PROVIDER_CALLS,
    PROBE_KEYWORD,
    RESULT_SHAPES,
    Call,
    differential,
    hook_payload,
    signature_of,
)
from reference_runtime import IDENTITY_HOOK, Registration, Runtime, describe_callable

suite = Suite("callbacks")

_EXPECTED_KWARGS = (
    f"every callback to accept the host's keywords and an unknown one ({PROBE_KEYWORD}=True)"
)


#: ``(what, callable, positional arguments, keywords, fill, unknown)``: one call the host makes;
#: ``unknown``: whether the callable must accept an unknown keyword too, or only the host's.
_Probe = tuple[str, Any, tuple[Any, ...], dict[str, Any], bool, bool]


def _probe_calls(runtime: Runtime, plugin: str) -> Iterator[_Probe]:
    """Each callback the host calls with keywords, and how it calls it."""
    for record in runtime.registrations(plugin):
        if record.kind == "hook" and record.key != IDENTITY_HOOK:
            payload = hook_payload(record.key)
            yield f"{record.key} hook", record["callback"], (), payload, True, True
        elif record.kind == "middleware":
            payload = {"request": {}, "tool_name": "kc_probe_tool", "args": {}}
            yield f"{record.key} middleware", record["callback"], (), payload, True, True
        elif record.kind == "tool":
            keywords = {"task_id": "kc-task"}
            yield f"tool {record.key!r}", record["handler"], ({},), keywords, False, True
        elif record.kind == "memory_provider":
            yield from _provider_calls(record)


def _provider_calls(record: Registration) -> Iterator[_Probe]:
    provider = record["provider"]
    for name, args, keywords, unknown in MEMORY_PROVIDER_CALLS:
        method = getattr(provider, name, None)
        if callable(method):
            what = f"memory provider {record.key!r} method {name}"
            yield what, method, args, dict(keywords), False, unknown


def _keyword(call: Call) -> str:
    name = call.rejected_keyword
    if name == PROBE_KEYWORD:
        return f"{name}= (an unknown keyword)"
    return f"{name}= (a keyword the host passes)"


def _rejection(what: str, fn: Any, call: Call, change: str | None) -> str | None:
    if call.rejected_probe:
        return f"{what}: {signature_of(fn)} rejects {_keyword(call)} ({call.error_text()})"
    if change is not None:
        return f"{what}: {signature_of(fn)} {change}"
    return None


@suite.check("KC-PL-007", applies=needs_callbacks)
def callbacks_take_new_keywords(ctx: CheckContext) -> None:
    """Space: every hook callback (identity aside), middleware, tool handler and memory-provider
    method the plugin registers; sync or async; called as the host calls it (the hook's sample
    payload, the provider's arguments), with an unknown keyword and without it (a provider
    method whose base signature names its keywords and takes no others: with the host's
    keywords only, which it must not reject). Accepting the
    keyword means the same outcome: no ``TypeError`` for it, no raise the plain call does not
    make, and the same result when two plain calls agree (a differential, so a callback whose
    ``**kwargs`` check for unknown keys, or change what it does, is caught too)."""
    runtime, _, _ = ctx.load()
    problems = []
    calls = BoundedCalls.for_check(ctx)
    for what, fn, args, keywords, fill, unknown in _probe_calls(runtime, ctx.target.name):
        if not unknown:
            # Only the host's own keywords: does it take what the host passes today?
            plain = calls.call(what, fn, args, keywords, probe=False, fill=fill)
            if plain is not None and plain.rejected_probe:
                problems.append(
                    f"{what}: {signature_of(fn)} rejects {_keyword(plain)} ({plain.error_text()})"
                )
            continue
        # Bound on the differential's calls together: a handler that waits for a person (no
        # time limit is set on one) is not judged, rather than failing the check's budget.
        probed = calls.run(what, functools.partial(differential, fn, args, keywords, fill=fill))
        if probed is None:
            continue
        call, change = probed
        if (problem := _rejection(what, fn, call, change)) is not None:
            problems.append(problem)
    ctx.fail_if(
        problems,
        expected=_EXPECTED_KWARGS,
        detail="\n".join(
            [
                "the host adds keywords over time (task_id= broke (args) tool handlers, "
                "session_id= broke memory providers)",
                *calls.unjudged,
            ]
        ),
    )
    if calls.unjudged:
        ctx.note("; ".join(calls.unjudged))


#: The raw argument strings a slash command is called with: a word, nothing, and padding with
#: quotes (what a user types).
_RAW_ARGS: Final = ("kc probe", "", '  "quoted words"  ')


@suite.check("KC-PL-008", applies=needs_commands)
def commands_take_new_keywords(ctx: CheckContext) -> None:
    """Space: every slash command handler of the plugin, sync or async, called with each of a
    few raw argument strings (a word, the empty string, quoted words), with an unknown keyword
    and without it; the same outcome is required (see KC-PL-007's differential)."""
    runtime, _, _ = ctx.load()
    problems = []
    calls = BoundedCalls.for_check(ctx)
    for command in runtime.commands():
        if command.plugin != ctx.target.name:
            continue
        for raw in _RAW_ARGS:
            what = f"/{command.name} {raw!r}"
            probed = calls.run(what, functools.partial(differential, command.handler, (raw,)))
            if probed is None:
                break  # still running: this command's other argument strings would wait too
            call, change = probed
            problem = _rejection(f"/{command.name} {raw!r}", command.handler, call, change)
            if problem is not None:
                problems.append(problem)
                break
    ctx.fail_if(
        problems,
        expected=f"command handlers to accept {PROBE_KEYWORD}=True too",
        detail="\n".join(calls.unjudged),
    )
    if calls.unjudged:
        ctx.note("; ".join(calls.unjudged))


def needs_result_hooks(profile: Profile) -> str | None:
    """Skip plugins with no callback for a hook whose result the host reads."""
    if (reason := needs_load(profile)) is not None:
        return reason
    if any(name in RESULT_SHAPES for name in profile.hook_names):
        return None
    return "registers no hook whose result the host reads (pre_tool_call, pre_llm_call, ...)"


#: At most this many payloads per hook (fewer when --kora-max-examples says so).
HOOK_PAYLOADS: Final = 24


@suite.check("KC-PL-009", applies=needs_result_hooks)
def hook_results_have_documented_shapes(ctx: CheckContext) -> None:
    """Space: every callback of a hook whose result the host reads, sync or async, called with
    the hook's sample payload and with that payload varied along the fields callbacks branch on
    (first and later turns, harmless and dangerous tools, empty and long texts, error codes:
    :data:`~kora_conformance.suites.plugin._payloads.VARIED_FIELDS`), each combination once, in
    a fixed order; every non-``None`` result must have the hook's documented shape."""
    runtime, _, _ = ctx.load()
    name = ctx.target.name
    tools = [t.name for t in runtime.tools() if t.plugin == name]
    limit = min(ctx.options.max_examples, HOOK_PAYLOADS)
    problems = []
    calls = BoundedCalls.for_check(ctx)
    for record in runtime.registrations(name, kind="hook"):
        shape = RESULT_SHAPES.get(record.key)
        if shape is None:
            continue
        callback = record["callback"]
        for payload in payload_variants(record.key, limit, tools):
            what = f"{record.key} callback {describe_callable(callback)}"
            call = calls.call(what, callback, (), payload, probe=False, fill=True)
            if call is None:
                break  # still running: the other payloads would most likely wait as long
            problem = _shape_problem(record.key, call, payload, shape)
            if problem is not None:
                problems.append(problem)
                break
    ctx.fail_if(
        problems,
        expected="hook results in the shapes the host reads, or None",
        detail="\n".join(calls.unjudged),
    )
    if calls.unjudged:
        ctx.note("; ".join(calls.unjudged))


def _shape_problem(hook: str, call: Call, payload: dict[str, Any], shape: Any) -> str | None:
    # A raise is the host's to isolate (and another check's to judge); the shape is ours.
    if call.error is not None or call.result is None:
        return None
    problem = shape.problem(call.result)
    if problem is None:
        return None
    how = "awaited, it gave" if call.awaited else "it returned"
    varied = _varied(hook, payload)
    return (
        f"{hook} callback {call.described}: {how} {problem}{varied}; the host reads "
        f"{shape.documented} (or None) and ignores anything else"
    )


def _varied(hook: str, payload: dict[str, Any]) -> str:
    sample = hook_payload(hook)
    changed = {k: v for k, v in payload.items() if sample.get(k) != v}
    if not changed:
        return ""
    shown = ", ".join(f"{k}={v!r}"[:70] for k, v in changed.items())
    return f" (for {shown})"
