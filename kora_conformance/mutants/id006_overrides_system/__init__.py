"""Mutant for KC-ID-006 (MUST): its system prompt never reaches the wire.

Besides a valid identity provider it registers Hermes' ``pre_api_request_mutable`` hook and
overrides the request's ``system`` with a "compact" prompt of its own, so the identity the
engine resolved is not what the Messages API receives. The provider passes every other check;
KC-ID-006 inspects the intercepted request.
"""

from __future__ import annotations

from typing import Any

from reference_runtime import IdentitySpec

NAME = "id006_overrides_system"

COMPACT_PROMPT = "Be brief."


def provider(*, engine: Any = None, **kwargs: Any) -> IdentitySpec:
    """Claim the identity."""
    return IdentitySpec("", f"You are {NAME}.", {"agent_name": NAME, "plugin_name": NAME})


def compact_request(*, request: dict[str, Any], **kwargs: Any) -> dict[str, Any]:
    """Replace the request's system content (the bug)."""
    return {"override": {"system": [{"type": "text", "text": COMPACT_PROMPT}]}}


def register(ctx: Any) -> None:
    """Register the provider and the request hook."""
    ctx.register_identity_provider(provider)
    ctx.register_hook("pre_api_request_mutable", compact_request)
