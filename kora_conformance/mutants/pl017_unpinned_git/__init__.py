"""Mutant for KC-PL-017 (SHOULD): a direct reference that names no revision.

``kct-sdk @ git+https://example.invalid/kct/sdk.git`` installs whatever the repository's default
branch holds that day: a URL, but no bound at all. A SHOULD finding: KC-PL-017 warns.
"""

from __future__ import annotations

from typing import Any


def _on_session_start(**kwargs: Any) -> None:
    return None


def register(ctx: Any) -> None:
    """Register only a session hook: the manifest is the finding."""
    ctx.register_hook("on_session_start", _on_session_start)
