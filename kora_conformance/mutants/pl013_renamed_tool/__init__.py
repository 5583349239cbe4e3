"""Mutant for KC-PL-013 (MUST): ``provides_tools`` does not match the registered tools.

The tool was renamed from ``lookup_v1`` to ``lookup`` in code, not in ``plugin.yaml``: the
manifest declares a tool the plugin does not register and omits the one it does, which the
catalog's validate gate rejects.
"""

from __future__ import annotations

import json
from typing import Any

SCHEMA = {
    "name": "lookup",
    "description": "Look a word up.",
    "parameters": {"type": "object", "properties": {"word": {"type": "string"}}},
}


def lookup(args: dict[str, Any], **kwargs: Any) -> str:
    """Echo the word, as JSON."""
    return json.dumps({"word": args.get("word", "")})


def register(ctx: Any) -> None:
    """Register the renamed tool."""
    ctx.register_tool("lookup", "words", SCHEMA, lookup)
