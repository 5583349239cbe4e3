"""Mutant for KC-PL-017 (SHOULD): an unbounded ``python_dependencies`` requirement.

``requests>=2.31`` admits requests 3, whenever it comes, with whatever it breaks. A SHOULD
finding: KC-PL-017 warns.
"""

from __future__ import annotations

from typing import Any


def _on_session_start(**kwargs: Any) -> None:
    return None


def register(ctx: Any) -> None:
    """Register only a session hook: the manifest is the finding."""
    ctx.register_hook("on_session_start", _on_session_start)
