"""A memory provider whose ``is_available`` asks its service, and quietly says False offline."""

from __future__ import annotations

import socket
from typing import Any


class PingMemory:
    name = "kct-ping-memory"

    def is_available(self) -> bool:
        try:
            socket.create_connection(("memory.kct.invalid", 443), timeout=1).close()
        except OSError:
            return False
        return True

    def initialize(self, session_id: str, **kwargs: Any) -> None:
        return None

    def get_tool_schemas(self) -> list[dict[str, Any]]:
        return []


def register(ctx: Any) -> None:
    ctx.register_memory_provider(PingMemory())
