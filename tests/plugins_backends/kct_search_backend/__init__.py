"""A conforming web-search backend: the host's base class, a name, a local availability check."""

from __future__ import annotations

import os
from typing import Any

from agent.web_search_provider import WebSearchProvider


class QuietSearch(WebSearchProvider):
    @property
    def name(self) -> str:
        return "kct-quiet"

    def is_available(self) -> bool:
        return bool(os.environ.get("KCT_QUIET_KEY"))


def register(ctx: Any) -> None:
    ctx.register_web_search_provider(QuietSearch())
