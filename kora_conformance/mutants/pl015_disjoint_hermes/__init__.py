"""Mutant for KC-PL-015 (MUST): ``requires_hermes`` with bounds that do not overlap.

The author meant ``>=0.20,<0.30`` and swapped the numbers: no Hermes version is both at least
0.30 and below 0.20, so every host refuses to load the plugin. It registers nothing else.
"""

from __future__ import annotations

from typing import Any


def _on_session_start(**kwargs: Any) -> None:
    return None


def register(ctx: Any) -> None:
    """Register only a session hook: the manifest is the bug."""
    ctx.register_hook("on_session_start", _on_session_start)
