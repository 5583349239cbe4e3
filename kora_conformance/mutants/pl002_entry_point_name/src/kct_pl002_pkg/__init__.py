"""Mutant for KC-PL-002 (MUST): an entry-point plugin whose manifest names another plugin.

The project declares the entry point ``pl002_entry_point_name`` (the key operators enable), but
the ``plugin.yaml`` it ships beside its package still says ``name: pl002-old-name``, the name
from before the rename. A kit that reads manifests only from plugin directories never sees it;
KC-PL-002 reads the manifest an entry-point plugin ships too.
"""

from __future__ import annotations

from typing import Any

SESSIONS: list[dict[str, Any]] = []


def on_session_start(**kwargs: Any) -> None:
    """Record the session."""
    SESSIONS.append(kwargs)


def register(ctx: Any) -> None:
    """Register the session hook."""
    ctx.register_hook("on_session_start", on_session_start)
