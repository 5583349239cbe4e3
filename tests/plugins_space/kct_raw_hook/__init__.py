"""Conforming: a raw identity hook returning ``{"identity": spec}``, positional engine allowed."""

from reference_runtime import IdentitySpec

NAME = "kct_raw_hook"

SPEC = IdentitySpec("persona", f"You are {NAME}.", {"agent_name": NAME, "plugin_name": NAME})


def identity_hook(engine=None, **kwargs):
    return {"identity": SPEC}


def register(ctx):
    ctx.register_hook("pre_agent_identity_set", identity_hook)
