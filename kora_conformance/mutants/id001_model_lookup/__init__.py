"""Mutant for KC-ID-001 (MUST): the provider raises for an engine it was not written for.

It looks its system prompt up in a table keyed by the engine's model, so for the default model
it claims, and for any other model it raises ``KeyError`` where it should decline (return
``None``). A kit that calls the provider with one engine only never sees it; KC-ID-001 calls it
with engines of other settings too.
"""

from __future__ import annotations

from typing import Any

from reference_runtime import DEFAULT_MODEL, IdentitySpec

NAME = "id001_model_lookup"

PROMPTS = {DEFAULT_MODEL: f"You are {NAME}, tuned for {DEFAULT_MODEL}."}


def provider(*, engine: Any = None, **kwargs: Any) -> IdentitySpec:
    """Claim the identity tuned for the engine's model (the bug: KeyError for other models)."""
    prompt = PROMPTS[getattr(engine, "model", DEFAULT_MODEL)]
    return IdentitySpec("", prompt, {"agent_name": NAME, "plugin_name": NAME})


def register(ctx: Any) -> None:
    """Register the provider."""
    ctx.register_identity_provider(provider)
