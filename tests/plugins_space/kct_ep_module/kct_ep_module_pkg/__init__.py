"""Conforming: an entry-point plugin (module form, flat layout) whose manifest splits its hooks
over ``hooks`` and ``provides_hooks``."""

from reference_runtime import IdentitySpec

NAME = "kct_ep_module"
SPEC = IdentitySpec("", f"You are {NAME}.", {"agent_name": NAME, "plugin_name": NAME})


def provider(*, engine=None, **kwargs):
    return SPEC


def on_session_start(**kwargs):
    return None


def register(ctx):
    ctx.register_identity_provider(provider)
    ctx.register_hook("on_session_start", on_session_start)
