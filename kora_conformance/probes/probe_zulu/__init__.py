"""Runtime probe: a valid identity, with a persona (KC-RT-001, 002, 005, 008, 009, 010).

Its provider journals each call and claims the ``probe_zulu`` identity of
:data:`kora_conformance.probes.common.IDENTITIES`; its ``on_session_start`` hook journals and
returns the plugin's name, showing its registrations are live.
"""

from __future__ import annotations

from typing import Any

from agent.identity_spec import IdentitySpec  # type: ignore[import-not-found]

from kora_conformance.probes.common import (
    IDENTITIES,
    SESSION_HOOK,
    hook_recorder,
    identity_recorder,
)

NAME = "probe_zulu"
_IDENTITY = IDENTITIES[NAME]
SPEC = IdentitySpec(_IDENTITY.persona, _IDENTITY.system_prompt, _IDENTITY.metadata(NAME))
provider = identity_recorder(NAME, lambda: SPEC)


def register(ctx: Any) -> None:
    """Register the provider and the session hook."""
    ctx.register_identity_provider(provider)
    ctx.register_hook(SESSION_HOOK, hook_recorder(NAME))
