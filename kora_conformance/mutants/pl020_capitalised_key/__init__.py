"""Mutant for KC-PL-020 (SHOULD): a manifest key in the wrong case.

The manifest says ``Description:``; keys are case-sensitive, so the host keeps the key, never
reads it, and shows the plugin with no description. A SHOULD finding: KC-PL-020 warns.
"""

from __future__ import annotations

from typing import Any


def _on_session_start(**kwargs: Any) -> None:
    return None


def register(ctx: Any) -> None:
    """Register a session hook: the manifest is the finding."""
    ctx.register_hook("on_session_start", _on_session_start)
