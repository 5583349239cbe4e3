"""Mutant for KC-PL-011 (MUST): a tool handler that raises instead of returning error JSON.

``limit`` is optional in the schema, but the handler reads ``args["limit"]``: called without it,
it raises ``KeyError`` and the turn breaks, where it should return ``{"error": ...}`` as JSON.
"""

from __future__ import annotations

import json
from typing import Any

SCHEMA = {
    "name": "page_fetch",
    "description": "The first lines of a page.",
    "parameters": {
        "type": "object",
        "properties": {"page": {"type": "string"}, "limit": {"type": "integer"}},
        "required": ["page"],
    },
}


def page_fetch(args: dict[str, Any], **kwargs: Any) -> str:
    """Return the page's first lines (the bug: limit is assumed present)."""
    return json.dumps({"page": args["page"], "lines": args["limit"]})


def register(ctx: Any) -> None:
    """Register the tool."""
    ctx.register_tool("page_fetch", "pages", SCHEMA, page_fetch)
