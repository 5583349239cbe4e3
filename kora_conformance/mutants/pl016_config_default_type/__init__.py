"""Mutant for KC-PL-016 (MUST): a manifest v2 field that is malformed.

``config_schema.limit`` is declared an ``integer`` with the default ``"ten"``. The host only
warns and then hands the plugin the string, which its code adds to numbers.
"""

from __future__ import annotations

from typing import Any


def register(ctx: Any) -> None:
    """Read the setting (the host hands over the malformed default)."""
    ctx.get_config("limit")
