"""KC-PL-011's calls: a tool's handler called with generated arguments and judged, each call
waited for a bounded time (see ``_bounded``)."""

from __future__ import annotations

import copy
import dataclasses
import json
from typing import Any, NoReturn

from hypothesis import HealthCheck, Phase, given, seed, settings

from kora_conformance.suites.plugin._bounded import BoundedCalls
from reference_runtime import ToolRecord

__all__ = ["Breach", "Undrawable", "find_breach", "judge"]


@dataclasses.dataclass(frozen=True)
class Breach:
    """A generated example the handler mishandled, and how."""

    args: Any
    problem: str


class _Broken(Exception):
    """A generated example the handler mishandled."""


class _NotJudged(Exception):
    """A call that was not judged: it ran past the bound, or was not made."""


class Undrawable(Exception):
    """Arguments could not be drawn from the tool's schema."""


def _no_constant(name: str) -> NoReturn:
    msg = f"{name} is not JSON (json.dumps writes it for a float NaN or infinity)"
    raise ValueError(msg)


def judge(tool: ToolRecord, args: Any, calls: BoundedCalls) -> str | None:
    """What is wrong with one call of the tool's handler with ``args``, or ``None``.

    :raises _NotJudged: the call was not judged (``calls.unjudged`` says why).
    """
    # A copy: a handler that changes the mapping it is given must not change the next call's.
    call = calls.call(
        f"tool {tool.name!r}", tool.handler, (copy.deepcopy(args),), {"task_id": "kc-task"}
    )
    if call is None:
        raise _NotJudged
    if call.error is not None:
        return f"raised {call.error_text()}"
    if call.awaited != tool.is_async:
        if call.awaited:
            return "returned an awaitable but is registered with is_async=False"
        return "is registered with is_async=True but returned a plain value"
    if not isinstance(call.result, str):
        return f"returned a {type(call.result).__name__}, not a JSON string"
    try:
        # Strict: Python's parser also reads NaN and Infinity, which JSON does not have.
        json.loads(call.result, parse_constant=_no_constant)
    except ValueError as exc:
        shown = call.result if len(call.result) <= 60 else call.result[:57] + "..."
        why = f" ({exc})" if "not JSON" in str(exc) else ""
        return f"returned a string that is not JSON{why}: {shown!r}"
    return None


def _judge_twice(tool: ToolRecord, args: Any, calls: BoundedCalls) -> str | None:
    """:func:`judge` for a first and a second call with the same arguments: a handler that
    caches, counts or sets itself up on the first call breaks on the second, if at all."""
    problem = judge(tool, args, calls)
    if problem is not None:
        return problem
    again = judge(tool, args, calls)
    return None if again is None else f"{again} on the second call with the same arguments"


def find_breach(
    tool: ToolRecord, strategy: Any, calls: BoundedCalls, *, examples: int, seeded: int
) -> Breach | None:
    """The smallest generated example (of at most ``examples``, from the seed ``seeded``) the
    handler mishandles, or ``None``.

    Once a call of the tool was not judged, the tool's handler is called no more: the call
    still running holds whatever it holds, and the next would most likely wait as long. A
    breach found before that stands (its call returned); none found means none was seen in the
    calls that were judged, which ``calls.unjudged`` qualifies.

    :raises Undrawable: arguments could not be drawn from ``strategy``.
    """
    breaches: list[Breach] = []
    stopped: list[bool] = []

    @seed(seeded)
    @settings(
        max_examples=examples,
        deadline=None,
        database=None,
        print_blob=False,
        report_multiple_bugs=False,
        suppress_health_check=list(HealthCheck),
        # No explain phase: the falsifying example is what the failure shows.
        phases=(Phase.explicit, Phase.reuse, Phase.generate, Phase.shrink),
    )
    @given(strategy)
    def handles_every_input(args: Any) -> None:
        if stopped:
            return
        try:
            problem = _judge_twice(tool, args, calls)
        except _NotJudged:
            stopped.append(True)
            return
        if problem is not None:
            breaches.append(Breach(args, problem))
            raise _Broken(problem)

    try:
        handles_every_input()
    except Exception as exc:
        # Hypothesis replays the smallest failing example last. When a call stopped being
        # judged while it shrank, the replay passes and hypothesis calls the test flaky: the
        # smallest breach seen so far is still a breach.
        if breaches:
            return breaches[-1]
        # The handler's failures are _Broken; anything else came from drawing the arguments
        # (a schema hypothesis-jsonschema can build but not draw from).
        raise Undrawable(str(exc) or type(exc).__name__) from exc
    return None
