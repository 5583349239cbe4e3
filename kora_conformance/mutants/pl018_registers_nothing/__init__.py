"""Mutant for KC-PL-018: a plugin that goes inactive and loads empty.

Its backend module is optional, and when it cannot be imported, ``register`` returns quietly
instead of failing or declaring the dependency. It loads, registers nothing, and every other
check would pass or skip vacuously: KC-PL-018 fails.
"""

from __future__ import annotations

import importlib.util
from typing import Any


def _search(args: dict[str, Any], **kwargs: Any) -> str:
    return "{}"


def register(ctx: Any) -> None:
    """Register the search tool only when the backend is importable (it never is)."""
    if importlib.util.find_spec("kc_mutant_search_backend") is None:
        return
    ctx.register_tool("kc_search", "search", {"name": "kc_search"}, _search)
