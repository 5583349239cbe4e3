"""Mutant for KC-PL-006 (MUST): registrations double after ``importlib.reload``.

Providers are collected by a decorator into a list that lives in a submodule (``_registry``).
Loading the plugin into several runtimes is fine (the same function is collected once), but a
reload re-executes this module and collects a *new* provider function next to the old one, so the
next ``register`` hands the runtime two providers. Only KC-PL-006 fails.
"""

from __future__ import annotations

from typing import Any

from reference_runtime import IdentitySpec

from ._registry import PROVIDERS, identity_provider

NAME = "pl006_reload_duplicates"


@identity_provider
def provider(*, engine: Any = None, **kwargs: Any) -> IdentitySpec:
    """A valid provider."""
    return IdentitySpec("", f"You are {NAME}.", {"agent_name": NAME, "plugin_name": NAME})


def register(ctx: Any) -> None:
    """Register every collected provider."""
    for collected in PROVIDERS:
        ctx.register_identity_provider(collected)
