"""Mutant for KC-PL-014 (SHOULD): a variable read when a tool is called, not declared anywhere.

The handler reads ``os.environ["KCT_FORECAST_KEY"]`` each time it is called and, without it,
returns an error as JSON (so it never raises). Neither ``plugin.yaml`` nor the tool's
``requires_env`` names the variable: the host never prompts for it, and the tool answers with
an error until the user finds the name in the source. A SHOULD finding: KC-PL-014 warns.
"""

from __future__ import annotations

import json
import os
from typing import Any

SCHEMA = {
    "name": "forecast_get",
    "description": "Tomorrow's forecast.",
    "parameters": {"type": "object", "properties": {"city": {"type": "string"}}},
}


def forecast_get(args: dict[str, Any], **kwargs: Any) -> str:
    """No forecast without the key (the finding: the key is declared nowhere)."""
    try:
        key = os.environ["KCT_FORECAST_KEY"]
    except KeyError:
        return json.dumps({"error": "not configured"})
    return json.dumps({"city": args.get("city"), "key_length": len(key)})


def register(ctx: Any) -> None:
    """Register the tool."""
    ctx.register_tool("forecast_get", "forecast", SCHEMA, forecast_get)
