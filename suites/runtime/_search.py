"""Property-based search for a runtime check: the first example a judge finds a problem in.

The runtime checks quantify over orderings, forms and behaviours of generated probe plugins. They
search that space with hypothesis under the kit's convention (the run's seed, its example budget
capped per check, no database, no deadline), so a verdict is the same on every run, and report
the smallest failing example hypothesis shrinks to.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Sequence
from typing import Any, Generic, TypeVar

from hypothesis import HealthCheck, Phase, given, seed, settings
from hypothesis import strategies as st

from kora_conformance import CheckContext

__all__ = ["Found", "search"]

_T = TypeVar("_T")


@dataclasses.dataclass(frozen=True)
class Found(Generic[_T]):
    """An example and what the judge found wrong with it."""

    example: _T
    problems: tuple[str, ...]


class _Broken(Exception):
    """Tells hypothesis that an example failed."""


def search(
    ctx: CheckContext,
    examples: st.SearchStrategy[_T],
    judge: Callable[[_T], Sequence[str]],
    *,
    budget: int,
    explicit: Sequence[_T] = (),
) -> Found[_T] | None:
    """The smallest example of ``examples`` (after every one of ``explicit``) that ``judge``
    finds problems in, or ``None``.

    :param budget: the most examples generated (the run's ``max_examples`` caps it too); 0:
        only the ``explicit`` ones.
    """
    for example in explicit:
        problems = tuple(judge(example))
        if problems:
            return Found(example, problems)
    if budget <= 0:
        return None
    found: list[Found[_T]] = []

    @seed(ctx.options.seed)
    @settings(
        max_examples=max(1, min(ctx.options.max_examples, budget)),
        deadline=None,
        database=None,
        derandomize=False,
        print_blob=False,
        report_multiple_bugs=False,
        suppress_health_check=list(HealthCheck),
        phases=(Phase.explicit, Phase.reuse, Phase.generate, Phase.shrink),
    )
    @given(examples)
    def holds(example: Any) -> None:
        problems = tuple(judge(example))
        if problems:
            found.append(Found(example, problems))
            raise _Broken

    try:
        holds()
    except _Broken:
        return found[-1]  # hypothesis replays the smallest failing example last
    return None
