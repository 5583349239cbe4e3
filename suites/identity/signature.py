"""KC-ID-003: the claimants' signature — ``engine=`` and unknown extra keywords, differentially.

A provider "tolerates" a keyword it does not know when it behaves as if the keyword were not
there: the kit compares each claimant's result with unknown keywords against its result without
them, called just before and just after (so a provider that changes anyway is KC-ID-005's
finding, not this one's).
"""

from __future__ import annotations

import inspect
import reprlib
from collections.abc import Mapping
from typing import Any, Final

from kora_conformance import CheckContext, Suite, needs_identity
from kora_conformance.suites.identity._claimants import (
    Claimant,
    DirectCall,
    ProbeEngine,
    call_directly,
    claimants,
    load_plugin,
)

suite = Suite("identity")

#: Keywords a future runtime might pass; providers must tolerate them (KC-ID-003).
FUTURE_KEYWORDS: Final[Mapping[str, Any]] = {
    "kora_future_context": "conformance-probe",
    "another_future_keyword": 1,
}

#: Context keywords a runtime could plausibly add, each tried alone.
LIKELY_KEYWORDS: Final[Mapping[str, Any]] = {
    "session_id": "kora-conformance-session",
    "platform": "cli",
    "context": {"kora_conformance": True},
    "config": None,
}


def _outcome(call: DirectCall) -> tuple[str, object]:
    """What a call came to, comparable across calls: its result, or the type it raised."""
    if call.error is not None:
        return ("raised", type(call.error).__name__)
    return ("returned", call.claimant.spec_of(call.result))


def _declared(claimant: Claimant) -> frozenset[str]:
    try:
        return frozenset(inspect.signature(claimant.function).parameters)
    except (TypeError, ValueError):
        return frozenset()


def _judge(
    claimant: Claimant, baseline: tuple[str, object], extra: Mapping[str, Any]
) -> str | None:
    """Why calling ``claimant`` with ``extra`` breaks the rule, or ``None``."""
    call = call_directly(claimant, engine=ProbeEngine(), **extra)
    what = ", ".join(f"{k}={reprlib.repr(v)}" for k, v in extra.items())
    if call.error is not None:
        error = call.error
        return f"{claimant.label}{claimant.signature()} called with {what} raised " + (
            f"{type(error).__name__}: {error}"
        )
    outcome = _outcome(call)
    if outcome != baseline:
        return (
            f"{claimant.label} called with {what} returned {reprlib.repr(outcome[1])} "
            f"instead of what it returns without them ({reprlib.repr(baseline[1])})"
        )
    return None


#: Further sets of unknown keywords, of several name shapes and value types, tried in turn.
VARIED_KEYWORDS: Final[tuple[Mapping[str, Any], ...]] = (
    {"x": 0},
    {"_private_context": object()},
    {"camelCaseContext": True, "kc_list": [1, 2]},
    {"kc_" + "long_" * 8 + "name": "x" * 300, "kc_none": None, "kc_float": 1.5},
    {"contexte_é": "unicode name", "kc_bytes": b"\x00"},
)


@suite.check("KC-ID-003", applies=needs_identity)
def provider_signature(ctx: CheckContext) -> None:
    """Space: each claimant called with ``engine=`` (a keyword; the runtime passes nothing
    positionally) alone, then with unknown extra keywords: the kit's fixed ones together, each
    likely future context keyword alone, and sets of names of several shapes (short, private,
    camelCase, long, non-ASCII) with values of several types, skipping names it declares.
    Differential: with them it returns what it returns without them, and raises nothing (of any
    type), where its calls without them agree."""
    plugin = load_plugin(ctx)
    fixed: tuple[Mapping[str, Any], ...] = (
        FUTURE_KEYWORDS,
        *({name: value} for name, value in LIKELY_KEYWORDS.items()),
        *VARIED_KEYWORDS,
    )
    for claimant in claimants(plugin):
        before = call_directly(claimant, engine=ProbeEngine())
        if before.error is not None:
            continue  # it raises whatever it is called with: KC-ID-001's finding
        baseline = _outcome(before)
        declared = _declared(claimant)
        problems: list[str] = []
        for extra in fixed:
            if set(extra) & declared:
                continue
            if (problem := _judge(claimant, baseline, extra)) is not None:
                problems.append(problem)
                break
        after = call_directly(claimant, engine=ProbeEngine())
        if baseline != _outcome(after):
            # It changes whatever it is called with: KC-ID-005's finding; only errors count.
            problems = [p for p in problems if " raised " in p]
        ctx.fail_if(
            problems,
            expected="providers to accept engine= and unknown extra keywords, and to return "
            "with them what they return without them (def provider(*, engine=None, **kwargs))",
        )
