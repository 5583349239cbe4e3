"""Mutant for KC-PL-007 (MUST): a memory provider method without ``**kwargs``.

``sync_turn(user_content, assistant_content)`` was written before the host started passing
``session_id=``; called as the host calls it now, it raises ``TypeError`` and no turn is
remembered. Its other methods take ``**kwargs`` and are fine.
"""

from __future__ import annotations

from typing import Any


class TurnMemory:
    """Remembers turns in memory."""

    name = "turn-memory"

    def __init__(self) -> None:
        self.turns: list[tuple[str, str]] = []

    def is_available(self) -> bool:
        return True

    def initialize(self, session_id: str, **kwargs: Any) -> None:
        self.session_id = session_id

    def sync_turn(self, user_content: str, assistant_content: str) -> None:
        """Store the turn (the bug: no **kwargs, so session_id= breaks it)."""
        self.turns.append((user_content, assistant_content))

    def prefetch(self, query: str, **kwargs: Any) -> str:
        return "\n".join(user for user, _ in self.turns if query in user)

    def get_tool_schemas(self) -> list[dict[str, Any]]:
        return []


def register(ctx: Any) -> None:
    """Register the provider."""
    ctx.register_memory_provider(TurnMemory())
