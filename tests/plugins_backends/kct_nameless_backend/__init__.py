"""A web-search backend of the host's class whose name is blank: no config key can select it."""

from __future__ import annotations

from typing import Any

from agent.web_search_provider import WebSearchProvider


class BlankSearch(WebSearchProvider):
    @property
    def name(self) -> str:
        return "  "

    def is_available(self) -> bool:
        return True


def register(ctx: Any) -> None:
    ctx.register_web_search_provider(BlankSearch())
