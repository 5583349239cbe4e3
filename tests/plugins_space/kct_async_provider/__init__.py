"""Conforming: the provider is a coroutine function (the runtime awaits it) that awaits a short
sleep, so it needs a running event loop whose clock moves, under a moved clock too."""

import asyncio

from reference_runtime import IdentitySpec

NAME = "kct_async_provider"


async def provider(*, engine=None, **kwargs):
    await asyncio.sleep(0.001)
    return IdentitySpec("", f"You are {NAME}.", {"agent_name": NAME, "plugin_name": NAME})


def register(ctx):
    ctx.register_identity_provider(provider)
