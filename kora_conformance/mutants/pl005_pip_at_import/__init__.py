"""Mutant for KC-PL-005 (MUST): ``pip install`` at import.

When an optional dependency is missing, the plugin runs ``python -m pip install`` in a child
process at import and carries on whatever happens, a pattern seen in published plugins. Starting
a child process at import is what KC-PL-005 forbids: under the kit the start is blocked and
recorded, and only KC-PL-005 fails.
"""

from __future__ import annotations

import contextlib
import subprocess
import sys
from typing import Any

NAME = "pl005_pip_at_import"

try:
    import kct_optional_accelerator  # type: ignore[import-not-found]  # noqa: F401 - not installed
except ImportError:
    with contextlib.suppress(Exception):
        subprocess.run(
            [sys.executable, "-m", "pip", "install", "-q", "kct-optional-accelerator"],
            check=False,
            timeout=60,
        )


def _on_session_start(**kwargs: Any) -> None:
    return None


def register(ctx: Any) -> None:
    """Register only a session hook; the import is the bug."""
    ctx.register_hook("on_session_start", _on_session_start)
