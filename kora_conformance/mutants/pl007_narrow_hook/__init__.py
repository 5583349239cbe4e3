"""Mutant for KC-PL-007 (MUST): a hook callback without ``**kwargs``.

``on_session_start(session_id, platform)`` takes exactly what the host passes today. The next
host release passes one keyword more and every call raises ``TypeError``; the host isolates it,
so the plugin silently stops seeing sessions, and its log fills with the same error.
"""

from __future__ import annotations

from typing import Any

SESSIONS: list[tuple[str, str]] = []


def on_session_start(session_id: str, platform: str) -> None:
    """Record the session (the bug: no **kwargs)."""
    SESSIONS.append((session_id, platform))


def register(ctx: Any) -> None:
    """Register the session hook."""
    ctx.register_hook("on_session_start", on_session_start)
