"""Mutant for KC-ID-007 (SHOULD): ``plugin_name`` is not the plugin's name.

The provider fills ``plugin_name`` from its module's ``__name__``, taking it for the plugin's
name. A directory plugin's module is ``hermes_plugins.<key>``, so the metadata names
``hermes_plugins.id007_module_name``, a plugin nobody can enable. A SHOULD finding: KC-ID-007
warns and the plugin stays conformant.
"""

from __future__ import annotations

from typing import Any

from reference_runtime import IdentitySpec

NAME = "id007_module_name"


def provider(*, engine: Any = None, **kwargs: Any) -> IdentitySpec:
    """Claim the identity, named after the module (the bug)."""
    return IdentitySpec("", f"You are {NAME}.", {"agent_name": NAME, "plugin_name": __name__})


def register(ctx: Any) -> None:
    """Register the provider."""
    ctx.register_identity_provider(provider)
