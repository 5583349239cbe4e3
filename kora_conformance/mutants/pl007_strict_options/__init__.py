"""Mutant for KC-PL-007 (MUST): ``**kwargs`` in the signature, but unknown keywords refused.

``on_turn_start(turn_number, message, **options)`` has the ``**kwargs`` an inspection looks
for (its base-class signature has them: the host adds keywords there), then checks the options
it got against the ones it knows and raises ``ValueError`` for any other. No
``TypeError`` is raised, and the call without a new keyword works: only comparing the call with
an unknown keyword against the call without one shows that the next host keyword breaks it.
"""

from __future__ import annotations

from typing import Any

_KNOWN_OPTIONS = frozenset({"platform"})


class StrictMemory:
    """Remembers turns in memory."""

    name = "strict-memory"

    def __init__(self) -> None:
        self.turns: list[tuple[str, str]] = []

    def is_available(self) -> bool:
        return True

    def initialize(self, session_id: str, **kwargs: Any) -> None:
        self.session_id = session_id

    def sync_turn(self, user_content: str, assistant_content: str, **kwargs: Any) -> None:
        self.turns.append((user_content, assistant_content))

    def prefetch(self, query: str, **kwargs: Any) -> str:
        return "\n".join(user for user, _ in self.turns if query in user)

    def on_turn_start(self, turn_number: int, message: str, **options: Any) -> None:
        """Note the turn (the bug: unknown options raise)."""
        unknown = sorted(set(options) - _KNOWN_OPTIONS)
        if unknown:
            msg = f"on_turn_start does not support the option(s) {', '.join(unknown)}"
            raise ValueError(msg)

    def get_tool_schemas(self) -> list[dict[str, Any]]:
        return []


def register(ctx: Any) -> None:
    """Register the provider."""
    ctx.register_memory_provider(StrictMemory())
