"""Mutant for KC-PL-001 (MUST): importing the plugin raises.

Like Marvin, it reads its system prompt at import, but the file was left out of the package
(``data/system_prompt.md`` is not shipped), so the import raises ``FileNotFoundError`` and the
plugin does not load. KC-PL-001 fails; checks that need the plugin loaded are skipped.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from reference_runtime import IdentitySpec

NAME = "pl001_import_error"

_PROMPT = (Path(__file__).resolve().parent / "data" / "system_prompt.md").read_text("utf-8")


def provider(*, engine: Any = None, **kwargs: Any) -> IdentitySpec:
    """Claim the identity read at import."""
    return IdentitySpec("", _PROMPT, {"agent_name": NAME, "plugin_name": NAME})


def register(ctx: Any) -> None:
    """Register the provider."""
    ctx.register_identity_provider(provider)
