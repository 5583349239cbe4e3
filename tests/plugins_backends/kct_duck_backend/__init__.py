"""A web-search backend that has the methods but not the base class: upstream ignores it."""

from __future__ import annotations

from typing import Any


class DuckSearch:
    name = "kct-duck"

    def is_available(self) -> bool:
        return True

    def search(self, query: str, limit: int = 5) -> dict[str, Any]:
        return {"success": True, "data": {"web": []}}


def register(ctx: Any) -> None:
    ctx.register_web_search_provider(DuckSearch())
