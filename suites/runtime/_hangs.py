"""KC-RT-007's judgement of a hung shutdown: bounded by its timeout from both sides."""

from __future__ import annotations

from typing import Final

from kora_conformance.probes import journal
from kora_conformance.probes.common import HANG_TIMEOUT
from kora_conformance.suites.runtime._probing import first_index

__all__ = ["TIMEOUT_EARLY", "TIMEOUT_SLACK", "hang_problems"]

#: Slack (clock seconds) allowed beyond a hung shutdown's timeout before the next shutdown.
TIMEOUT_SLACK: Final = 1.5
#: How much sooner than its timeout (clock seconds) the next shutdown may begin after a hung one:
#: a clock tick, not a share of the timeout.
TIMEOUT_EARLY: Final = 0.05


def hang_problems(events: list[journal.Event], hang: str) -> list[str]:
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
        elif waited < HANG_TIMEOUT - TIMEOUT_EARLY:
            problems.append(
                f"the next shutdown began {waited:.2f} s after {hang}'s hung shutdown, before "
                f"its timeout of {HANG_TIMEOUT:g} s ran out: a shutdown is given its whole "
                "shutdown_timeout before the coordinator moves on"
            )
    return problems
