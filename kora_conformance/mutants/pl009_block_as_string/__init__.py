"""Mutant for KC-PL-009 (MUST): a ``pre_tool_call`` result the host ignores.

The async guard means to block every tool call, but returns the string ``"block"``
instead of the directive ``{"action": "block", "message": ...}``. The host awaits it, finds no
directive, ignores the result, and the tool runs anyway.
"""

from __future__ import annotations

from typing import Any


async def guard(tool_name: str = "", **kwargs: Any) -> Any:
    """Block terminal commands (the bug: a bare string is not a directive)."""
    return "block" if tool_name else None


def register(ctx: Any) -> None:
    """Register the guard."""
    ctx.register_hook("pre_tool_call", guard)
