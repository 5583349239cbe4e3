"""Mutant for KC-PL-003 (MUST): an unknown hook name registered after loading.

``register`` registers only ``on_session_start``; the per-session hook is registered lazily,
through the context kept from ``register``, when the first session starts, and its name is
misspelt (``on_sesion_end``), so it never fires. At load time every name is known; KC-PL-003
also looks at what the plugin registers while a host uses it. (The manifest repeats the typo,
so declared and registered hooks still agree.)
"""

from __future__ import annotations

from typing import Any

NAME = "pl003_late_hook"

_context: list[Any] = []
ENDED: list[dict[str, Any]] = []


def on_session_end(**kwargs: Any) -> None:
    """Record the end of a session (never called: the hook name is misspelt)."""
    ENDED.append(kwargs)


def on_session_start(**kwargs: Any) -> None:
    """Register the session's end hook, once (the bug: the misspelt name)."""
    if _context and not ENDED:
        ctx = _context.pop()
        ctx.register_hook("on_sesion_end", on_session_end)


def register(ctx: Any) -> None:
    """Register the session hook and keep the context for later."""
    _context[:] = [ctx]
    ctx.register_hook("on_session_start", on_session_start)
