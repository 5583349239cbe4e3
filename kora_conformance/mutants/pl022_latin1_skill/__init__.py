"""Mutant for KC-PL-022: a skill whose SKILL.md is not UTF-8.

The file was saved by an editor set to Latin-1 (``é`` is the single byte 0xE9). It exists, so
``register_skill`` accepts it; the host reads a skill as UTF-8 each time the model loads it,
and answers "Failed to read skill" instead of the instructions.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

SKILL = Path(__file__).resolve().parent / "skills" / "recipes" / "SKILL.md"


def register(ctx: Any) -> None:
    """Register the skill."""
    ctx.register_skill("recipes", SKILL, description="Kitchen recipes")
