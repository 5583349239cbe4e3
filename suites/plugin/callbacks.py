"""KC-PL-007 to KC-PL-009: the plugin's callbacks as the host calls them.

Hook callbacks, middleware, tool and command handlers and memory-provider methods are called for
real, as the host calls them (keywords only for hooks, a sample payload, an unknown extra
keyword, awaitables awaited), with the sandbox's network guard on. What the hooks whose results
the host interprets return is held against the documented shapes.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from kora_conformance import (
    CheckContext,
    Profile,
    Suite,
    needs_callbacks,
    needs_commands,
    needs_load,
)
from kora_conformance.suites.plugin._surface_probes import (
    MEMORY_PROVIDER_CALLS,
    PROBE_KEYWORD,
    RESULT_SHAPES,
    Call,
    call_for_real,
    hook_payload,
    signature_of,
)
from reference_runtime import IDENTITY_HOOK, Registration, Runtime

suite = Suite("callbacks")

_EXPECTED_KWARGS = (
    f"every callback to accept the host's keywords and an unknown one ({PROBE_KEYWORD}=True)"
)


def _probe_calls(runtime: Runtime, plugin: str) -> Iterator[tuple[str, Any, Call]]:
    """``(what, callable, call)`` for each callback the host calls with keywords."""
    for record in runtime.registrations(plugin):
        if record.kind == "hook" and record.key != IDENTITY_HOOK:
            callback = record["callback"]
            payload = hook_payload(record.key)
            yield f"{record.key} hook", callback, call_for_real(callback, (), payload, fill=True)
        elif record.kind == "middleware":
            callback = record["callback"]
            payload = {"request": {}, "tool_name": "kc_probe_tool", "args": {}}
            call = call_for_real(callback, (), payload, fill=True)
            yield f"{record.key} middleware", callback, call
        elif record.kind == "tool":
            handler = record["handler"]
            yield (
                f"tool {record.key!r}",
                handler,
                call_for_real(handler, ({},), {"task_id": "kc-task"}),
            )
        elif record.kind == "memory_provider":
            yield from _provider_calls(record)


def _provider_calls(record: Registration) -> Iterator[tuple[str, Any, Call]]:
    provider = record["provider"]
    for name, args, keywords in MEMORY_PROVIDER_CALLS:
        method = getattr(provider, name, None)
        if callable(method):
            what = f"memory provider {record.key!r} method {name}"
            yield what, method, call_for_real(method, args, keywords)


def _keyword(call: Call) -> str:
    name = call.rejected_keyword
    if name == PROBE_KEYWORD:
        return f"{name}= (an unknown keyword)"
    return f"{name}= (a keyword the host passes)"


@suite.check("KC-PL-007", applies=needs_callbacks)
def callbacks_take_new_keywords(ctx: CheckContext) -> None:
    runtime, _, _ = ctx.load()
    problems = [
        f"{what}: {signature_of(fn)} rejects {_keyword(call)} ({call.error_text()})"
        for what, fn, call in _probe_calls(runtime, ctx.target.name)
        if call.rejected_probe
    ]
    ctx.fail_if(
        problems,
        expected=_EXPECTED_KWARGS,
        detail="the host adds keywords over time (task_id= broke (args) tool handlers, "
        "session_id= broke memory providers)",
    )


@suite.check("KC-PL-008", applies=needs_commands)
def commands_take_new_keywords(ctx: CheckContext) -> None:
    runtime, _, _ = ctx.load()
    problems = []
    for command in runtime.commands():
        if command.plugin != ctx.target.name:
            continue
        call = call_for_real(command.handler, ("kc probe",))
        if call.rejected_probe:
            problems.append(
                f"/{command.name}: {signature_of(command.handler)} rejects "
                f"{call.rejected_keyword}= ({call.error_text()})"
            )
    ctx.fail_if(problems, expected=f"command handlers to accept {PROBE_KEYWORD}=True too")


def needs_result_hooks(profile: Profile) -> str | None:
    """Skip plugins with no callback for a hook whose result the host reads."""
    if (reason := needs_load(profile)) is not None:
        return reason
    if any(name in RESULT_SHAPES for name in profile.hook_names):
        return None
    return "registers no hook whose result the host reads (pre_tool_call, pre_llm_call, ...)"


@suite.check("KC-PL-009", applies=needs_result_hooks)
def hook_results_have_documented_shapes(ctx: CheckContext) -> None:
    runtime, _, _ = ctx.load()
    problems = []
    for record in runtime.registrations(ctx.target.name, kind="hook"):
        shape = RESULT_SHAPES.get(record.key)
        if shape is None:
            continue
        callback = record["callback"]
        call = call_for_real(callback, (), hook_payload(record.key), probe=False, fill=True)
        # A raise is the host's to isolate (and another check's to judge); the shape is ours.
        if call.error is not None or call.result is None:
            continue
        problem = shape.problem(call.result)
        if problem is not None:
            how = "awaited, it gave" if call.awaited else "it returned"
            problems.append(
                f"{record.key} callback {call.described}: {how} {problem}; the host reads "
                f"{shape.documented} (or None) and ignores anything else"
            )
    ctx.fail_if(problems, expected="hook results in the shapes the host reads, or None")
