"""Mutant for KC-PL-016 (MUST): a manifest v2 entry whose constraint is under the wrong key.

The ``requires_plugins`` entry gives its range as ``version:``; the host reads ``version_range``
and ignores other keys, so the plugin is loaded beside any version of ``kct_notes_base``. Every
value is well typed: only the key is wrong.
"""

from __future__ import annotations

from typing import Any


def _on_session_start(**kwargs: Any) -> None:
    return None


def register(ctx: Any) -> None:
    """Register only a session hook: the manifest is the bug."""
    ctx.register_hook("on_session_start", _on_session_start)
