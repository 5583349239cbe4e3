"""Mutant for KC-PL-015 (MUST): ``requires_hermes`` written in another tool's range syntax.

``">=0.19 <0.30"`` separates its clauses with a space, as npm ranges do; the host's clauses are
comma-separated. Its bounds overlap, but the string does not parse as the host's clauses, and
the host treats a range it cannot read as met: the upper bound is silently gone.
"""

from __future__ import annotations

from typing import Any


def _on_session_start(**kwargs: Any) -> None:
    return None


def register(ctx: Any) -> None:
    """Register only a session hook: the manifest is the bug."""
    ctx.register_hook("on_session_start", _on_session_start)
