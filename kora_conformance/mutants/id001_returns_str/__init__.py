"""Mutant for KC-ID-001 (MUST): the provider returns a ``str``.

The author thought a provider returns the system prompt itself. The runtime's wrapper turns the
wrong type into ``None`` with a warning, so the plugin never supplies the identity; KC-ID-001
names the type. The checks that need a spec from the plugin (KC-ID-002 to KC-ID-007) are skipped,
pointing at KC-ID-001.
"""

from __future__ import annotations

from typing import Any

NAME = "id001_returns_str"

SYSTEM_PROMPT = f"You are {NAME}."


def provider(*, engine: Any = None, **kwargs: Any) -> str:
    """Return the system prompt text (the bug: not an IdentitySpec)."""
    return SYSTEM_PROMPT


def register(ctx: Any) -> None:
    """Register the provider."""
    ctx.register_identity_provider(provider)
