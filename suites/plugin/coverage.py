"""KC-PL-018 and KC-PL-019: no vacuous verdict.

The other checks examine what a plugin registered. A plugin that registered nothing, or that
caught an error of the context and carried on without what it meant to register, would pass
them vacuously: these two checks say so, naming what was left out.
"""

from __future__ import annotations

from kora_conformance import CheckContext, Suite, needs_load, registrations_of

suite = Suite("coverage")

#: Load-report warnings that mean a registration was refused (dropped, the plugin loaded on).
_REFUSED = "(not registered)"


@suite.check("KC-PL-018", applies=needs_load)
def registers_something(ctx: CheckContext) -> None:
    """Space: every kind of registration (the Hermes surface's, identity providers, daemons,
    listeners), counted as register(ctx) left them when it returned: nothing at all, only what
    was refused by a rule, only what a swallowed error kept out, and what a plugin that kept its
    context registers later (from a thread or a callback), which a host never reads."""
    runtime, report, plugin = ctx.load()
    if registrations_of(plugin):
        return
    mine = f"plugin {ctx.target.name!r}: "
    refused = [
        w.removeprefix(mine) for w in report.warnings if w.startswith(mine) and _REFUSED in w
    ]
    context = runtime.context(ctx.target.name)
    swallowed = [e.describe() for e in context.context_errors] if context is not None else []
    hints = []
    if refused:
        hints.append("refused by the runtime's rules: " + "; ".join(refused))
    if swallowed:
        hints.append("errors it caught (KC-PL-019): " + "; ".join(swallowed))
    ctx.fail(
        expected="at least one registration once register(ctx) returns",
        seen="register(ctx) returned having registered nothing (no tool, hook, command, "
        "provider, platform, identity provider, daemon or listener)",
        detail="\n".join(hints)
        or "a plugin that goes inactive when something is missing (a host module, a setting, "
        "a secret) should declare it or fail, not load empty",
    )


@suite.check("KC-PL-019", applies=needs_load)
def no_context_error_swallowed(ctx: CheckContext) -> None:
    """Space: every error the context raises to the plugin's own code while register(ctx) runs
    (a registration refused by its rule, a call its signature does not take, a member the
    context lacks read directly rather than probed with hasattr/getattr), caught in any way
    (except, contextlib.suppress, a wrapper of the plugin's own) and passed over."""
    runtime, _, _ = ctx.load()
    context = runtime.context(ctx.target.name)
    errors = context.context_errors if context is not None else ()
    ctx.fail_if(
        [f"{error.describe()}, and register(ctx) caught it and carried on" for error in errors],
        expected="every error the context raises inside register(ctx) to reach the loader "
        "(or the call corrected so that it registers)",
        detail="what the call would have registered is missing, so the other checks never saw it",
    )
