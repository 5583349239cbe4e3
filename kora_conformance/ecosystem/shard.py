"""``--shard K/N``: which share of a corpus one job certifies.

The split is deterministic: every job given the same corpus and the same cost table computes the
same N shares, so N jobs that never talk to each other cover the corpus once. It is even by
expected cost: targets are dealt out costliest first, each to the share with the least cost so
far (the longest-processing-time rule; ties go to the lower share, and equal costs are ordered
by target ID). Costs are a previous ecosystem report's durations when one is given; without
one every target costs the same, and the shares differ in size by at most one target.
"""

from __future__ import annotations

import re
import statistics
from collections.abc import Mapping, Sequence
from typing import Any

from kora_conformance.ecosystem.corpus import CorpusError, Entry

__all__ = ["costs_from", "parse_shard", "split"]


def parse_shard(text: str) -> tuple[int, int]:
    """``"K/N"`` as ``(K, N)``, with ``1 <= K <= N``.

    :raises CorpusError: ``text`` is not of that form.
    """
    match = re.fullmatch(r"\s*(\d+)\s*/\s*(\d+)\s*", text)
    if match is None or not 1 <= int(match[1]) <= int(match[2]):
        msg = (
            f"--shard {text!r} is not K/N with 1 <= K <= N; give this job's share and the "
            "number of shares, for example --shard 1/4"
        )
        raise CorpusError(msg)
    return int(match[1]), int(match[2])


def costs_from(documents: Sequence[Mapping[str, Any]]) -> dict[str, float]:
    """Each target's duration in earlier ecosystem reports (the last report naming it wins)."""
    costs: dict[str, float] = {}
    for document in documents:
        for record in document.get("targets", []):
            costs[str(record["id"])] = float(record["duration"])
    return costs


def split(
    entries: Sequence[Entry], count: int, costs: Mapping[str, float] | None = None
) -> list[list[Entry]]:
    """The corpus dealt into ``count`` shares, each costliest first.

    A target missing from ``costs`` is expected to cost the median of those present (the
    typical target), or 1 when there are none.
    """
    costs = costs or {}
    known = [costs[e.id] for e in entries if e.id in costs]
    typical = statistics.median(known) if known else 1.0

    def cost(entry: Entry) -> float:
        return costs.get(entry.id, typical)

    loads = [0.0] * count
    shares: list[list[Entry]] = [[] for _ in range(count)]
    for entry in sorted(entries, key=lambda e: (-cost(e), e.id)):
        lightest = min(range(count), key=lambda i: (loads[i], len(shares[i]), i))
        shares[lightest].append(entry)
        loads[lightest] += cost(entry)
    return shares
