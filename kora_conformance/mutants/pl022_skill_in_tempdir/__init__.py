"""Mutant for KC-PL-022: a skill file that is gone by the time the host reads it.

``register`` renders the skill's text into a ``TemporaryDirectory`` and registers that file
inside the ``with`` block: the file exists when ``register_skill`` checks it, and the directory
is removed as ``register`` returns. The host reads the skill when the model first loads it,
and finds nothing.
"""

from __future__ import annotations

import tempfile
from pathlib import Path
from typing import Any

TEXT = "---\nname: release\ndescription: Cut a release\n---\n\nTag, build, publish.\n"


def register(ctx: Any) -> None:
    """Write the skill out and register it (the bug: into a directory about to be removed)."""
    with tempfile.TemporaryDirectory(prefix="kc-skill-") as where:
        path = Path(where) / "SKILL.md"
        path.write_text(TEXT, encoding="utf-8")
        ctx.register_skill("release", path, description="Cut a release")
