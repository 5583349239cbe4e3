"""Mutant for KC-ID-003 (MUST): unknown keywords are accepted, then held against the caller.

The provider declares ``**kwargs``, so a call with extra keywords raises nothing, but it
declines (returns ``None``) whenever any arrive, "not knowing the context". A runtime that adds
a context keyword silently loses this identity. KC-ID-003 compares the result with unknown
keywords against the result without them.
"""

from __future__ import annotations

from typing import Any

from reference_runtime import IdentitySpec

NAME = "id003_declines_extras"


def provider(*, engine: Any = None, **kwargs: Any) -> IdentitySpec | None:
    """Claim the identity, unless called with anything besides engine= (the bug)."""
    if kwargs:
        return None
    return IdentitySpec("", f"You are {NAME}.", {"agent_name": NAME, "plugin_name": NAME})


def register(ctx: Any) -> None:
    """Register the provider."""
    ctx.register_identity_provider(provider)
