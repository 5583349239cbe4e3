"""Mutant for KC-PL-011 (MUST): a tool handler that returns a string Python reads but JSON is not.

With no values, the mean is ``float("nan")``, and ``json.dumps`` writes it as the bare word
``NaN``. Python's ``json.loads`` reads that back, so a check with Python's parser passes; JSON
has no ``NaN``, and every strict parser between the tool and the model rejects the result.
"""

from __future__ import annotations

import json
from typing import Any

SCHEMA = {
    "name": "stats_mean",
    "description": "The mean of some numbers.",
    "parameters": {
        "type": "object",
        "properties": {"values": {"type": "array", "items": {"type": "number"}}},
    },
}


def stats_mean(args: dict[str, Any], **kwargs: Any) -> str:
    """The mean (the bug: NaN for no values, which JSON cannot carry)."""
    values = [float(v) for v in args.get("values") or []]
    mean = sum(values) / len(values) if values else float("nan")
    return json.dumps({"count": len(values), "mean": mean})


def register(ctx: Any) -> None:
    """Register the tool."""
    ctx.register_tool("stats_mean", "stats", SCHEMA, stats_mean)
