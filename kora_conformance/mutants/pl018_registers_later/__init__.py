"""Mutant for KC-PL-018: a plugin whose registration comes after ``register`` returned.

``register`` keeps the context and starts a timer that registers the plugin's tool a moment
later, from another thread ("once the backend is warm"). When ``register(ctx)`` returns, the
plugin has registered nothing; a host that reads the registrations then (every host does) never
sees the tool. KC-PL-018 fails however long the kit waits before looking.
"""

from __future__ import annotations

import threading
from typing import Any


def _search(args: dict[str, Any], **kwargs: Any) -> str:
    return "{}"


def register(ctx: Any) -> None:
    """Register the search tool a little later, from a timer thread."""

    def later() -> None:
        ctx.register_tool("kc_late_search", "search", {"name": "kc_late_search"}, _search)

    timer = threading.Timer(0.05, later)
    timer.daemon = True
    timer.start()
