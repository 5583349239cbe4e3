"""Mutant for KC-PL-009 (MUST): a hook result in the documented shape for one payload only.

On the first turn the ``pre_llm_call`` callback returns ``{"context": ...}``, as documented; on
every later turn it returns a list of reminders, which the host ignores. A check that only sends
a first-turn payload sees the good shape and nothing else.
"""

from __future__ import annotations

from typing import Any

REMINDERS = ["Answer in English.", "Cite the notes you use."]


def add_context(is_first_turn: bool = False, **kwargs: Any) -> Any:
    """Add the reminders to the prompt (the bug: a list on later turns)."""
    if is_first_turn:
        return {"context": " ".join(REMINDERS)}
    return list(REMINDERS)


def register(ctx: Any) -> None:
    """Register the context hook."""
    ctx.register_hook("pre_llm_call", add_context)
