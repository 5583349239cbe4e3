"""Probe plugin: the Kora identity, as the conformance kit's precedence checks need it.

It behaves like the bundled Kora plugin where precedence is concerned: its provider claims an
identity (a fixed one, so the probe needs no files) unless ``$KORA_DISABLE_IDENTITY_PROVIDER`` is
true, in which case it declines. KC-ID-004 enables it before and after the plugin under test.
"""

from __future__ import annotations

from typing import Any

from reference_runtime import IdentitySpec, env_flag

__all__ = ["ENV_DISABLE", "NAME", "kora_identity_provider", "register"]

#: The probe's plugin name (its directory and manifest name).
NAME = "kora_identity"

#: The variable that silences the Kora identity provider, and only it.
ENV_DISABLE = "KORA_DISABLE_IDENTITY_PROVIDER"

_SPEC = IdentitySpec(
    soul_md_content="",
    system_prompt_content="You are Kora (conformance probe).",
    identity_metadata={"agent_name": "Kora", "plugin_name": NAME},
)


def kora_identity_provider(*, engine: Any = None, **kwargs: Any) -> IdentitySpec | None:
    """Claim the Kora identity, or decline when ``$KORA_DISABLE_IDENTITY_PROVIDER`` is true."""
    return None if env_flag(ENV_DISABLE) else _SPEC


def register(ctx: Any) -> None:
    """Register the probe's identity provider."""
    ctx.register_identity_provider(kora_identity_provider)
