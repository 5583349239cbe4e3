"""Mutant for KC-PL-004 (SHOULD): the manifest declares a hook the plugin does not register.

The ``post_llm_call`` hook was removed from ``register``, but ``provides_hooks`` still lists
it, so operators and tools reading the manifest expect a hook that is not there. A SHOULD
finding: KC-PL-004 warns and the plugin stays conformant.
"""

from __future__ import annotations

from typing import Any

SESSIONS: list[dict[str, Any]] = []


def on_session_start(**kwargs: Any) -> None:
    """Record the session."""
    SESSIONS.append(kwargs)


def register(ctx: Any) -> None:
    """Register the session hook (post_llm_call is gone)."""
    ctx.register_hook("on_session_start", on_session_start)
