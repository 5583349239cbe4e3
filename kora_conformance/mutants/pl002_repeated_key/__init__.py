"""Mutant for KC-PL-002 (MUST): a manifest key given twice.

``plugin.yaml`` says ``version: 0.1.0`` near the top and ``version: 0.2.0`` at the end. A YAML
parser keeps the last one without a word, so which version the author meant depends on where one
reads; the runtime refuses the manifest (so the plugin also fails KC-PL-001), and KC-PL-002 names
the key and both lines.
"""

from __future__ import annotations

from typing import Any


def _on_session_start(**kwargs: Any) -> None:
    return None


def register(ctx: Any) -> None:
    """Register a session hook: the manifest is the breach."""
    ctx.register_hook("on_session_start", _on_session_start)
