"""Conforming: the spec is a function of the engine's settings (another model, another prompt),
and of nothing else; a declared optional keyword of its own is fine too."""

from reference_runtime import IdentitySpec

NAME = "kct_per_model"


def provider(*, engine=None, verbose=False, **kwargs):
    model = getattr(engine, "model", "")
    short = "haiku" in model or getattr(engine, "max_tokens", 1024) < 128
    prompt = f"You are {NAME}." if short else f"You are {NAME}, a careful assistant."
    return IdentitySpec("", prompt, {"agent_name": NAME, "plugin_name": NAME})


def register(ctx):
    ctx.register_identity_provider(provider)
