"""Mutant for KC-ID-002 (MUST): a mutable value nested in the metadata, shared and changed.

The metadata carries ``engines``, the list of engines the provider has served, and that list is
a module-level one the provider appends to on every call. ``IdentitySpec`` copies the metadata
dict but not the values in it, so every spec holds the same list and grows with each later
call; specs still compare equal to each other. KC-ID-002 compares each spec's content after the
later calls with what it was right after its own call.
"""

from __future__ import annotations

from typing import Any

from reference_runtime import IdentitySpec

NAME = "id002_shared_history"

_ENGINES: list[str] = []


def provider(*, engine: Any = None, **kwargs: Any) -> IdentitySpec:
    """Claim the identity, recording the engine in the shared list (the bug)."""
    _ENGINES.append(repr(engine))
    metadata = {"agent_name": NAME, "plugin_name": NAME, "engines": _ENGINES}
    return IdentitySpec("", f"You are {NAME}.", metadata)


def register(ctx: Any) -> None:
    """Register the provider."""
    ctx.register_identity_provider(provider)
