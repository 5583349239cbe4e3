"""Mutant for KC-PL-001 (MUST): the plugin has no ``register(ctx)``.

The author named the entry function ``setup``, as another framework expects, so the runtime finds
nothing to call and the plugin does not load. Every check that needs the plugin loaded is
skipped; KC-PL-001 fails.
"""

from __future__ import annotations

from typing import Any

from reference_runtime import IdentitySpec

NAME = "pl001_no_register"


def provider(*, engine: Any = None, **kwargs: Any) -> IdentitySpec:
    """A valid provider, never registered."""
    return IdentitySpec("", f"You are {NAME}.", {"agent_name": NAME, "plugin_name": NAME})


def setup(ctx: Any) -> None:
    """The registration function, under the wrong name."""
    ctx.register_identity_provider(provider)
