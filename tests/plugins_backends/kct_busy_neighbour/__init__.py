"""A backend whose ``is_available`` is local, beside a thread, started at load, that keeps
trying the network: that thread is another check's finding (KC-PL-005), not this call's."""

from __future__ import annotations

import contextlib
import socket
import threading
import time
from typing import Any

from agent.web_search_provider import WebSearchProvider


def _keep_trying() -> None:
    while True:
        with contextlib.suppress(OSError):
            socket.create_connection(("telemetry.kct.invalid", 443), timeout=1).close()
        time.sleep(0.001)


class LocalSearch(WebSearchProvider):
    @property
    def name(self) -> str:
        return "kct-local"

    def is_available(self) -> bool:
        time.sleep(0.05)  # the neighbour's attempts land while this call runs
        return True


def register(ctx: Any) -> None:
    threading.Thread(target=_keep_trying, daemon=True).start()
    ctx.register_web_search_provider(LocalSearch())
