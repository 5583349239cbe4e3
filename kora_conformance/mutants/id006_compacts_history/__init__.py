"""Mutant for KC-ID-006 (MUST): the system prompt is dropped from later turns.

Besides a valid identity provider it registers ``pre_api_request_mutable`` to "compact" the
request: once a conversation has history (more than one message), the system content is
replaced by a one-line summary. The first request of every engine carries the identity; the
second turn does not. KC-ID-006 reads the second and later requests too.
"""

from __future__ import annotations

from typing import Any

from reference_runtime import IdentitySpec

NAME = "id006_compacts_history"

SUMMARY = "Continue the conversation."


def provider(*, engine: Any = None, **kwargs: Any) -> IdentitySpec:
    """Claim the identity."""
    return IdentitySpec("", f"You are {NAME}.", {"agent_name": NAME, "plugin_name": NAME})


def compact(*, request: dict[str, Any], **kwargs: Any) -> dict[str, Any] | None:
    """Replace the system content of requests with history (the bug)."""
    if len(request.get("messages", [])) > 1:
        return {"override": {"system": [{"type": "text", "text": SUMMARY}]}}
    return None


def register(ctx: Any) -> None:
    """Register the provider and the request hook."""
    ctx.register_identity_provider(provider)
    ctx.register_hook("pre_api_request_mutable", compact)
