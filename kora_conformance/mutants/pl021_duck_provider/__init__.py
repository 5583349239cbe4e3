"""Mutant for KC-PL-021: a web-search provider that is not an instance of the host's class.

The class has ``name``, ``is_available`` and ``search``, everything the host calls, but does not
subclass ``agent.web_search_provider.WebSearchProvider``. Upstream's
``register_web_search_provider`` checks the class, logs a warning and ignores the provider:
the plugin loads, and its backend never serves a search.
"""

from __future__ import annotations

from typing import Any


class LookalikeSearch:
    """Every method of a web-search provider, and no base class."""

    name = "kc-lookalike"

    def is_available(self) -> bool:
        return True

    def search(self, query: str, limit: int = 5) -> dict[str, Any]:
        return {"success": True, "data": {"web": []}}


def register(ctx: Any) -> None:
    """Register the provider."""
    ctx.register_web_search_provider(LookalikeSearch())
