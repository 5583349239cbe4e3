"""Mutant for KC-PL-008 (SHOULD): a slash command handler that takes only the raw string.

``/shout`` works with today's host, which passes the raw argument string alone; a host that also
passes context keywords would break it. A SHOULD finding: KC-PL-008 warns.
"""

from __future__ import annotations

from typing import Any


def shout(raw_args: str) -> str:
    """Upper-case the arguments (the finding: no **kwargs)."""
    return raw_args.upper()


def register(ctx: Any) -> None:
    """Register the command."""
    ctx.register_command("shout", shout, description="Say it louder")
