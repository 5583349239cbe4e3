"""Mutant for KC-ID-005 (MUST): the provider is not deterministic.

It stamps each spec with a generation counter (``identity_metadata['generation']``), so two
calls give unequal specs. KC-ID-005 calls the provider three times; the other checks pass.
"""

from __future__ import annotations

import itertools
from typing import Any

from reference_runtime import IdentitySpec

NAME = "id005_counter_metadata"

_GENERATIONS = itertools.count(1)


def provider(*, engine: Any = None, **kwargs: Any) -> IdentitySpec:
    """Claim the identity, numbered (the bug)."""
    metadata = {"agent_name": NAME, "plugin_name": NAME, "generation": next(_GENERATIONS)}
    return IdentitySpec("", f"You are {NAME}.", metadata)


def register(ctx: Any) -> None:
    """Register the provider."""
    ctx.register_identity_provider(provider)
