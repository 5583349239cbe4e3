"""Mutant for KC-PL-012 (MUST): a slash command that collides with a host built-in.

The plugin registers ``/help``. The host keeps its own command and refuses the plugin's with a
warning, so the plugin loads but its help never appears.
"""

from __future__ import annotations

from typing import Any


def plugin_help(raw_args: str, **kwargs: Any) -> str:
    """The plugin's help text."""
    return "pl012 help"


def _on_session_start(**kwargs: Any) -> None:
    return None


def register(ctx: Any) -> None:
    """Register the colliding command, and a session hook."""
    ctx.register_command("help", plugin_help, description="Help for this plugin")
    ctx.register_hook("on_session_start", _on_session_start)
