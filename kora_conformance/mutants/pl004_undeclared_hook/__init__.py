"""Mutant for KC-PL-004 (SHOULD): the manifest does not declare every registered hook.

A session hook was added to ``register`` but not to ``plugin.yaml``'s ``hooks:`` list. This is a
SHOULD finding: KC-PL-004 warns and the plugin stays conformant.
"""

from __future__ import annotations

from typing import Any

from reference_runtime import IdentitySpec

NAME = "pl004_undeclared_hook"

SESSIONS: list[dict[str, Any]] = []


def provider(*, engine: Any = None, **kwargs: Any) -> IdentitySpec:
    """A valid provider."""
    return IdentitySpec("", f"You are {NAME}.", {"agent_name": NAME, "plugin_name": NAME})


def on_session_start(**kwargs: Any) -> None:
    """Record the session."""
    SESSIONS.append(kwargs)


def register(ctx: Any) -> None:
    """Register the provider and a session hook the manifest forgot."""
    ctx.register_identity_provider(provider)
    ctx.register_hook("on_session_start", on_session_start)
