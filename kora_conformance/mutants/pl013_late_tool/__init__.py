"""Mutant for KC-PL-013 (MUST): a tool registered after ``register()``, missing from the manifest.

``notes_add`` is registered in ``register(ctx)`` and declared. ``notes_search`` is registered by
the ``on_session_start`` hook, once the index is ready; ``provides_tools`` does not list it. A
comparison made right after loading sees only the declared tool.
"""

from __future__ import annotations

import json
from typing import Any

NOTES: list[str] = []
_SCHEMA = {"type": "object", "properties": {"text": {"type": "string"}}}


def notes_add(args: dict[str, Any], **kwargs: Any) -> str:
    """Keep a note."""
    NOTES.append(str(args.get("text", "")))
    return json.dumps({"count": len(NOTES)})


def notes_search(args: dict[str, Any], **kwargs: Any) -> str:
    """Find notes."""
    text = str(args.get("text", ""))
    return json.dumps([n for n in NOTES if text in n])


def register(ctx: Any) -> None:
    """Register the declared tool, and the hook that registers the other one."""
    ctx.register_tool("notes_add", "notes", {"parameters": _SCHEMA}, notes_add)

    def on_session_start(**kwargs: Any) -> None:
        if ctx.tool_handler("notes_search") is None:
            ctx.register_tool("notes_search", "notes", {"parameters": _SCHEMA}, notes_search)

    ctx.register_hook("on_session_start", on_session_start)
