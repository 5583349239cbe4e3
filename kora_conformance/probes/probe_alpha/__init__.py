"""Runtime probe: a valid identity, no persona (KC-RT-001).

Alphabetically first, enabled second: a loader that follows discovery order makes it win.
"""

from __future__ import annotations

from typing import Any

from agent.identity_spec import IdentitySpec  # type: ignore[import-not-found]

from kora_conformance.probes.common import IDENTITIES, identity_recorder

NAME = "probe_alpha"
_IDENTITY = IDENTITIES[NAME]
SPEC = IdentitySpec(_IDENTITY.persona, _IDENTITY.system_prompt, _IDENTITY.metadata(NAME))
provider = identity_recorder(NAME, lambda: SPEC)


def register(ctx: Any) -> None:
    """Register the provider."""
    ctx.register_identity_provider(provider)
