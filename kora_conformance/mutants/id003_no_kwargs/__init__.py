"""Mutant for KC-ID-003 (MUST): the provider has no ``**kwargs``.

It declares only ``engine``, which works with today's runtime (only ``engine=`` is passed), but
raises ``TypeError`` as soon as a runtime passes a further context keyword. KC-ID-003 calls it
with extra keywords; the other checks pass.
"""

from __future__ import annotations

from typing import Any

from reference_runtime import IdentitySpec

NAME = "id003_no_kwargs"


def provider(*, engine: Any = None) -> IdentitySpec:
    """Claim the identity (the bug: no **kwargs)."""
    return IdentitySpec("", f"You are {NAME}.", {"agent_name": NAME, "plugin_name": NAME})


def register(ctx: Any) -> None:
    """Register the provider."""
    ctx.register_identity_provider(provider)
