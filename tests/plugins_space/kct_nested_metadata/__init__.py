"""Conforming: nested metadata values, a module-level constant list and a fresh dict per call,
neither ever changed; the spec built positionally."""

from reference_runtime import IdentitySpec

NAME = "kct_nested_metadata"

CAPABILITIES = ["chat", "code"]


def provider(*, engine=None, **kwargs):
    metadata = {
        "agent_name": NAME,
        "plugin_name": NAME,
        "capabilities": CAPABILITIES,
        "limits": {"max_turns": 10, "tags": ("a", "b")},
    }
    return IdentitySpec("", f"You are {NAME}.", metadata)


def register(ctx):
    ctx.register_identity_provider(provider)
