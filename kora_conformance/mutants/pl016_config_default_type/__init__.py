"""Mutant for KC-PL-016 (MUST): a manifest v2 field that is malformed.

``config_schema.limit`` is declared an ``integer`` with the default ``"ten"``. The host only
warns and then hands the plugin the string, which its code adds to numbers.
"""

from __future__ import annotations

from typing import Any


def _on_session_start(**kwargs: Any) -> None:
    return None


def register(ctx: Any) -> None:
    """Read the setting (the host hands over the malformed default); register a hook."""
    ctx.get_config("limit")
    ctx.register_hook("on_session_start", _on_session_start)
