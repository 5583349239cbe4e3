"""Mutant for KC-PL-021: a memory provider whose ``is_available`` asks its service.

``is_available`` opens a connection to the provider's service to see whether it answers, and
says False when it cannot (so nothing is raised). The host calls it at every agent start; its
base class says it checks configuration and installed dependencies only, never the network.
"""

from __future__ import annotations

import socket
from typing import Any


class ProbingMemory:
    """A memory provider that pings its service to decide whether it is available."""

    name = "kc-probing-memory"

    def is_available(self) -> bool:
        try:
            socket.create_connection(("memory.kc-mutant.invalid", 443), timeout=1).close()
        except OSError:
            return False
        return True

    def initialize(self, session_id: str, **kwargs: Any) -> None:
        return None

    def get_tool_schemas(self) -> list[dict[str, Any]]:
        return []


def register(ctx: Any) -> None:
    """Register the provider."""
    ctx.register_memory_provider(ProbingMemory())
