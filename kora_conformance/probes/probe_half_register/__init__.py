"""Runtime probe: fails half-way through ``register`` (KC-RT-005).

It registers an ``on_session_start`` hook, an identity provider (which would win, being enabled
first) and the daemon ``kc_probe.half``, then raises. The runtime must roll all three back: the
hook never called, the identity never winning, the daemon absent.
"""

from __future__ import annotations

from typing import Any

from agent.identity_spec import IdentitySpec  # type: ignore[import-not-found]

from kora_conformance.probes import journal
from kora_conformance.probes.common import (
    IDENTITIES,
    SESSION_HOOK,
    hook_recorder,
    identity_recorder,
    recorder,
)

NAME = "probe_half_register"
DAEMON = "kc_probe.half"
_IDENTITY = IDENTITIES[NAME]
SPEC = IdentitySpec(_IDENTITY.persona, _IDENTITY.system_prompt, _IDENTITY.metadata(NAME))
provider = identity_recorder(NAME, lambda: SPEC)


def register(ctx: Any) -> None:
    """Register three things, then fail."""
    journal.record("register", NAME)
    ctx.register_hook(SESSION_HOOK, hook_recorder(NAME))
    ctx.register_identity_provider(provider)
    startup, shutdown, _ = recorder(DAEMON)
    ctx.register_background_daemon(DAEMON, startup, shutdown)
    msg = "probe_half_register: deliberate failure half-way through register (kora-conformance)"
    raise RuntimeError(msg)
