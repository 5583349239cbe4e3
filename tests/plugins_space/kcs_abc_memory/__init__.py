"""A memory provider written to the host base class's signatures, exactly.

``prefetch``, ``queue_prefetch`` and ``sync_turn`` take the keywords the base class names
(``session_id=``, ``messages=``) and no others, as upstream's own ``MemoryProvider`` declares
them; the methods whose base signature takes ``**kwargs`` take them too. The host passes these
methods only the keywords they name (it reads the signature before passing a newer one), so the
provider works with it: KC-PL-007 must not fail it for refusing an unknown keyword there.
"""

from __future__ import annotations

from typing import Any


class NotebookMemory:
    name = "kcs-notebook"

    def __init__(self) -> None:
        self.turns: list[tuple[str, str, str]] = []

    def is_available(self) -> bool:
        return True

    def initialize(self, session_id: str, **kwargs: Any) -> None:
        self.session_id = session_id

    def prefetch(self, query: str, *, session_id: str = "") -> str:
        return "\n".join(user for sid, user, _ in self.turns if sid == session_id and query in user)

    def queue_prefetch(self, query: str, *, session_id: str = "") -> None:
        return None

    def sync_turn(
        self,
        user_content: str,
        assistant_content: str,
        *,
        session_id: str = "",
        messages: list[dict[str, Any]] | None = None,
    ) -> None:
        self.turns.append((session_id, user_content, assistant_content))

    def on_turn_start(self, turn_number: int, message: str, **kwargs: Any) -> None:
        return None

    def get_tool_schemas(self) -> list[dict[str, Any]]:
        return []


def register(ctx: Any) -> None:
    ctx.register_memory_provider(NotebookMemory())
