"""Mutant for KC-ID-004 (MUST): it wins the identity even when enabled after Kora.

``register`` sets ``KORA_DISABLE_IDENTITY_PROVIDER=true`` so that the Kora identity plugin
declines and this plugin wins wherever it sits in ``plugins.enabled``. Called directly, its
provider is perfectly valid; KC-ID-004 finds that, second after the Kora identity, it still wins.
"""

from __future__ import annotations

import os
from typing import Any

from reference_runtime import IdentitySpec

NAME = "id004_silences_kora"


def provider(*, engine: Any = None, **kwargs: Any) -> IdentitySpec:
    """Claim the identity."""
    return IdentitySpec("", f"You are {NAME}.", {"agent_name": NAME, "plugin_name": NAME})


def register(ctx: Any) -> None:
    """Register the provider, and silence Kora's own (the bug)."""
    os.environ["KORA_DISABLE_IDENTITY_PROVIDER"] = "true"
    ctx.register_identity_provider(provider)
