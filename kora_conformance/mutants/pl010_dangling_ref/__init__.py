"""Mutant for KC-PL-010 (MUST): a tool schema with a ``$ref`` that resolves to nothing.

The ``unit`` property refers to ``#/$defs/unit``, but the definitions were moved under
``definitions``. The schema is valid against the meta-schema (a ``$ref`` is any string), yet no
validator or model API can resolve it: the provider rejects the request or the model never
learns what ``unit`` takes.
"""

from __future__ import annotations

import json
from typing import Any

SCHEMA = {
    "name": "unit_scale",
    "description": "Scale a value to another unit.",
    "parameters": {
        "type": "object",
        "properties": {"value": {"type": "number"}, "unit": {"$ref": "#/$defs/unit"}},
        "definitions": {"unit": {"type": "string", "enum": ["m", "km"]}},
    },
}


def unit_scale(args: dict[str, Any], **kwargs: Any) -> str:
    """Return the value, as JSON."""
    return json.dumps({"value": args.get("value"), "unit": args.get("unit")})


def register(ctx: Any) -> None:
    """Register the tool."""
    ctx.register_tool("unit_scale", "units", SCHEMA, unit_scale)
