"""KC-DM-002: the three ways a consumer calls a daemon's startup (contract 3.2).

Each startup of both sides is called alone, in each form, on a virtual clock under the watchdog
(:func:`kora_conformance.harness._virtual_run.call_startups`), its shutdown called after each so the
next form starts from the same state.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable
from typing import Any

from kora_conformance import CheckContext, Suite, needs_daemons
from kora_conformance.harness import (
    AGAIN,
    STARTUP_FORMS,
    Lifecycle,
    SpawnedTaskError,
    call_startups,
    lifecycles,
    registered_alone,
)
from reference_runtime import describe_callable

suite = Suite("daemon startups")


def _signature(fn: Callable[..., Any]) -> inspect.Signature | None:
    try:
        return inspect.signature(fn)
    except (TypeError, ValueError):
        return None


def _bindable(lifecycle: Lifecycle, problems: list[str]) -> list[str]:
    """The forms ``lifecycle.startup``'s signature accepts; a problem for each it refuses."""
    signature = _signature(lifecycle.startup)
    if signature is None:  # a builtin without a signature: calling it is the only test
        return [form for form, _, _ in STARTUP_FORMS]
    forms = []
    for form, positional, keyword in STARTUP_FORMS:
        try:
            signature.bind(
                *((None,) if positional else ()), **({"coordinator": None} if keyword else {})
            )
        except TypeError:
            name = describe_callable(lifecycle.startup)
            problems.append(
                f"{lifecycle.label}: startup {name}{signature} cannot be called as {form}"
            )
        else:
            forms.append(form)
    return forms


@suite.check("KC-DM-002", applies=needs_daemons)
def startup_call_forms(ctx: CheckContext) -> None:
    """Space: every distinct startup of both sides (entries, then listeners not already seen),
    sync or async, called in each of the three forms, each form judged by what the call
    raised and by what the tasks it spawned raised in their first steps (a startup that
    returns but leaves a task needing its coordinator), the first form called once more to
    tell a one-shot daemon (legitimate) from a form that does not work.
    """
    registered = registered_alone(ctx)
    problems: list[str] = []
    plan = [(lifecycle, _bindable(lifecycle, problems)) for lifecycle in lifecycles(registered)]
    watch, results = call_startups(registered.runtime, plan)
    if watch.overran:
        ctx.skip(f"calling the startups blocked: {watch.describe()} (see KC-DM-005)")
    baseline = STARTUP_FORMS[0][0]
    for (lifecycle, _), outcomes in zip(plan, results, strict=True):
        signature = _signature(lifecycle.startup)
        # Started again in the first form after the others, it failed too: the later forms'
        # errors come from restarting a one-shot daemon, not from how it was called.
        one_shot = AGAIN in outcomes and outcomes.pop(AGAIN) is not None
        for form, error in outcomes.items():
            if error is None:
                continue
            if signature is None and isinstance(error, TypeError):
                problems.append(f"{lifecycle.label}: {form} raised TypeError: {error}")
            elif one_shot and not isinstance(error, TypeError):
                continue
            elif form != baseline and baseline in outcomes and outcomes[baseline] is None:
                how = (
                    f"returned, but {error}"
                    if isinstance(error, SpawnedTaskError)
                    else f"raised {type(error).__name__}: {error}"
                )
                problems.append(
                    f"{lifecycle.label}: {form} {how}, while {baseline} works "
                    f"({describe_callable(lifecycle.startup)})"
                )
    ctx.fail_if(
        problems,
        expected="every startup callable as startup(coordinator), "
        "startup(coordinator=coordinator) and startup() (contract 3.2)",
    )
