"""Mutant for KC-PL-002 (MUST): the manifest's ``name`` is not the plugin's key.

The directory was renamed to ``pl002_renamed_dir`` but ``plugin.yaml`` still says
``name: pl002_old_name``. The runtime refuses the mismatch, so the plugin also fails KC-PL-001
(it cannot load); KC-PL-002 names the mismatch itself.
"""

from __future__ import annotations

from typing import Any

from reference_runtime import IdentitySpec

NAME = "pl002_renamed_dir"


def provider(*, engine: Any = None, **kwargs: Any) -> IdentitySpec:
    """A valid provider."""
    return IdentitySpec("", f"You are {NAME}.", {"agent_name": NAME, "plugin_name": NAME})


def register(ctx: Any) -> None:
    """Register the provider."""
    ctx.register_identity_provider(provider)
