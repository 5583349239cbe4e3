"""Mutant for KC-PL-014 (SHOULD): ``requires_env`` misses a variable a tool requires.

The tool is registered with ``requires_env=["KCT_QUOTES_KEY"]``, but ``plugin.yaml`` has no
``requires_env``: the host cannot prompt for the key, and the tool is silently never offered.
A SHOULD finding: KC-PL-014 warns.
"""

from __future__ import annotations

import json
from typing import Any

SCHEMA = {
    "name": "quote_stock",
    "description": "A stock quote.",
    "parameters": {"type": "object", "properties": {"symbol": {"type": "string"}}},
}


def quote_stock(args: dict[str, Any], **kwargs: Any) -> str:
    """No quotes offline: an error, as JSON."""
    return json.dumps({"error": "offline", "symbol": args.get("symbol")})


def register(ctx: Any) -> None:
    """Register the tool with its environment requirement."""
    ctx.register_tool("quote_stock", "quotes", SCHEMA, quote_stock, requires_env=["KCT_QUOTES_KEY"])
