"""Conforming: an entry-point plugin (``pkg:register`` form) with a plugin.yaml beside it."""

from reference_runtime import IdentitySpec

NAME = "kct_ep_callable"


def provider(*, engine=None, **kwargs):
    return IdentitySpec("", f"You are {NAME}.", {"agent_name": NAME, "plugin_name": NAME})


def register(ctx):
    ctx.register_identity_provider(provider)
