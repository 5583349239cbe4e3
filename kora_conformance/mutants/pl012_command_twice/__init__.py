"""Mutant for KC-PL-012 (MUST): one slash command name taken twice by the same plugin.

``/notes`` lists the notes; the clearing command was meant to be ``/notes-clear`` but was
registered as ``/notes`` too. The host keeps the last registration without a word, so ``/notes``
clears the notes it was supposed to show. No other plugin and no host name is involved.
"""

from __future__ import annotations

from typing import Any

NOTES: list[str] = []


def list_notes(raw_args: str, **kwargs: Any) -> str:
    """Show the notes."""
    return "\n".join(NOTES) or "no notes"


def clear_notes(raw_args: str, **kwargs: Any) -> str:
    """Forget the notes."""
    NOTES.clear()
    return "cleared"


def register(ctx: Any) -> None:
    """Register both commands (the bug: under one name)."""
    ctx.register_command("notes", list_notes, description="Show the notes")
    ctx.register_command("notes", clear_notes, description="Forget the notes")
