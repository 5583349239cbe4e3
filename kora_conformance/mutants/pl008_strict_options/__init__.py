"""Mutant for KC-PL-008 (SHOULD): a command handler whose ``**kwargs`` change what it does.

``/export`` accepts any keyword, so the call never raises; but it treats every keyword as an
option it was not given and answers with its usage text instead of exporting. A host that passes
one keyword more gets the usage every time. A SHOULD finding: KC-PL-008 warns.
"""

from __future__ import annotations

from typing import Any

NOTES: list[str] = ["first note"]


def export(raw_args: str, **options: Any) -> str:
    """Export the notes (the bug: any keyword turns the command into its usage text)."""
    if options:
        return "usage: /export [prefix]"
    prefix = raw_args.strip()
    return "\n".join(n for n in NOTES if n.startswith(prefix)) or "nothing to export"


def register(ctx: Any) -> None:
    """Register the command."""
    ctx.register_command("export", export, description="Export the notes")
