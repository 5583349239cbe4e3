"""A web-search backend whose ``is_available`` reaches its service from a thread it starts."""

from __future__ import annotations

import socket
import threading
from typing import Any

from agent.web_search_provider import WebSearchProvider


class ThreadedSearch(WebSearchProvider):
    @property
    def name(self) -> str:
        return "kct-threaded"

    def is_available(self) -> bool:
        answer: list[bool] = []

        def ask() -> None:
            try:
                socket.create_connection(("search.kct.invalid", 443), timeout=1).close()
                answer.append(True)
            except OSError:
                answer.append(False)

        worker = threading.Thread(target=ask)
        worker.start()
        worker.join()
        return answer[0]


def register(ctx: Any) -> None:
    ctx.register_web_search_provider(ThreadedSearch())
