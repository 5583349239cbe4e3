"""Mutant for KC-PL-011 (MUST): a tool handler that breaks on the second call with the same input.

The first call for a place computes the answer and returns it as a JSON string; it also keeps the
answer, as a dict, in a cache. A second call for the same place returns the cached dict itself.
Every first call is right; only calling the handler again with the same arguments shows it.
"""

from __future__ import annotations

import json
from typing import Any

SCHEMA = {
    "name": "geo_lookup",
    "description": "Coordinates of a place.",
    "parameters": {
        "type": "object",
        "properties": {"place": {"type": "string"}},
        "required": ["place"],
    },
}

_CACHE: dict[str, dict[str, Any]] = {}


def geo_lookup(args: dict[str, Any], **kwargs: Any) -> Any:
    """Look the place up (the bug: a cache hit returns the dict, not JSON)."""
    place = str(args.get("place", ""))
    if place in _CACHE:
        return _CACHE[place]
    answer = {"place": place, "lat": 0.0, "lon": 0.0}
    _CACHE[place] = answer
    return json.dumps(answer)


def register(ctx: Any) -> None:
    """Register the tool."""
    ctx.register_tool("geo_lookup", "geo", SCHEMA, geo_lookup)
