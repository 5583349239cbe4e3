"""Conforming: the provider is a coroutine function (the runtime awaits it)."""

from reference_runtime import IdentitySpec

NAME = "kct_async_provider"


async def provider(*, engine=None, **kwargs):
    return IdentitySpec("", f"You are {NAME}.", {"agent_name": NAME, "plugin_name": NAME})


def register(ctx):
    ctx.register_identity_provider(provider)
