"""Mutant for KC-PL-003 (MUST): a hook name with a typo.

It registers ``on_sesion_start`` (sic) for ``on_session_start``. The runtime accepts unknown names
with a warning for forward compatibility, so the callback silently never runs. The manifest repeats
the same typo, so KC-PL-004 (declared == registered) still passes; only KC-PL-003 fails.
"""

from __future__ import annotations

from typing import Any

from reference_runtime import IdentitySpec

NAME = "pl003_typo_hook"

SESSIONS: list[dict[str, Any]] = []


def provider(*, engine: Any = None, **kwargs: Any) -> IdentitySpec:
    """A valid provider."""
    return IdentitySpec("", f"You are {NAME}.", {"agent_name": NAME, "plugin_name": NAME})


def on_session_start(**kwargs: Any) -> None:
    """Record the session (never called: the hook name is misspelt)."""
    SESSIONS.append(kwargs)


def register(ctx: Any) -> None:
    """Register the provider and the misspelt session hook."""
    ctx.register_identity_provider(provider)
    ctx.register_hook("on_sesion_start", on_session_start)
