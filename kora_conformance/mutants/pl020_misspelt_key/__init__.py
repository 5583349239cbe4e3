"""Mutant for KC-PL-020 (SHOULD): a misspelt manifest key.

The manifest says ``require_env`` where it means ``requires_env``: the host keeps the key and
never reads it, so the variable is not declared. A SHOULD finding: KC-PL-020 warns.
"""

from __future__ import annotations

from typing import Any


def _on_session_start(**kwargs: Any) -> None:
    return None


def register(ctx: Any) -> None:
    """Register a session hook: the manifest is the finding."""
    ctx.register_hook("on_session_start", _on_session_start)
