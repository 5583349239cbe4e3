"""Mutant for KC-PL-019: a plugin that catches the error of a refused registration.

It registers a tool under a name with a space in it, which the context refuses with a
``ValueError`` (the tool-name rule), catches that error and carries on with its hook. It loads,
the tool it meant to offer is missing, and the other checks only see the hook: KC-PL-019 fails,
naming the call, the error and this file's line.
"""

from __future__ import annotations

import logging
from typing import Any

_log = logging.getLogger(__name__)


def _lookup(args: dict[str, Any], **kwargs: Any) -> str:
    return "{}"


def _on_session_start(**kwargs: Any) -> None:
    return None


def register(ctx: Any) -> None:
    """Register a tool (refused: its name has a space) and a hook."""
    try:
        ctx.register_tool("kc lookup", "lookup", {"name": "kc lookup"}, _lookup)
    except ValueError as exc:  # the bug: the refusal is logged and passed over
        _log.debug("tool not registered: %s", exc)
    ctx.register_hook("on_session_start", _on_session_start)
