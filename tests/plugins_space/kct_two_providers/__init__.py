"""Conforming: two providers in one plugin, the first always declining, the second claiming, and a
request hook that adds a header-like field without touching ``system``."""

from reference_runtime import IdentitySpec

NAME = "kct_two_providers"


def declines(**kwargs):
    return None


def claims(*, engine=None, **kwargs):
    return IdentitySpec("", f"You are {NAME}.", {"agent_name": NAME, "plugin_name": NAME})


def tag_request(*, request, **kwargs):
    return {"override": {"metadata": {"user_id": "kct"}}}


def register(ctx):
    ctx.register_identity_provider(declines)
    ctx.register_identity_provider(claims)
    ctx.register_hook("pre_api_request_mutable", tag_request)
