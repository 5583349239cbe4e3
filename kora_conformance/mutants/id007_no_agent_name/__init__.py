"""Mutant for KC-ID-007 (SHOULD): the metadata has no ``agent_name``.

The spec is valid but its metadata only carries ``plugin_name``, so operators cannot tell which
agent is speaking. A SHOULD finding: KC-ID-007 warns and the plugin stays conformant.
"""

from __future__ import annotations

from typing import Any

from reference_runtime import IdentitySpec

NAME = "id007_no_agent_name"


def provider(*, engine: Any = None, **kwargs: Any) -> IdentitySpec:
    """Claim the identity without naming the agent."""
    return IdentitySpec("", f"You are {NAME}.", {"plugin_name": NAME})


def register(ctx: Any) -> None:
    """Register the provider."""
    ctx.register_identity_provider(provider)
