"""Mutant for KC-PL-010 (MUST): an invalid tool schema.

The parameters' ``type`` is ``"objekt"``: not a JSON Schema type, so the provider the schema is
sent to rejects the request (or the model sees no usable arguments). The handler itself is fine,
and KC-PL-011 skips a tool it cannot generate arguments for.
"""

from __future__ import annotations

import json
from typing import Any

SCHEMA = {
    "name": "unit_convert",
    "description": "Convert between units.",
    "parameters": {"type": "objekt", "properties": {"value": {"type": "number"}}},
}


def unit_convert(args: dict[str, Any], **kwargs: Any) -> str:
    """Return the value unchanged, as JSON."""
    return json.dumps({"value": args.get("value")})


def register(ctx: Any) -> None:
    """Register the tool."""
    ctx.register_tool("unit_convert", "units", SCHEMA, unit_convert)
