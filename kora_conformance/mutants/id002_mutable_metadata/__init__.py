"""Mutant for KC-ID-002 (MUST): the spec's metadata can be changed after construction.

To "enrich" the metadata later, the provider swaps the read-only mapping the constructor made for
a plain ``dict`` with ``object.__setattr__``, bypassing the frozen dataclass. The spec still is an
``IdentitySpec``, so the runtime accepts it and every other check passes; KC-ID-002 finds that
the metadata accepts assignment.
"""

from __future__ import annotations

from typing import Any

from reference_runtime import IdentitySpec

NAME = "id002_mutable_metadata"


def provider(*, engine: Any = None, **kwargs: Any) -> IdentitySpec:
    """Claim the identity, with metadata left writable."""
    spec = IdentitySpec("", f"You are {NAME}.")
    object.__setattr__(spec, "identity_metadata", {"agent_name": NAME, "plugin_name": NAME})
    return spec


def register(ctx: Any) -> None:
    """Register the provider."""
    ctx.register_identity_provider(provider)
