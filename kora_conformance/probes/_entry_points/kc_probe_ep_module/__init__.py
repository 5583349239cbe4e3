"""Runtime probe: an entry-point plugin in the module form (KC-RT-004).

Installed by the kit for the check as ``probe_ep_module = kc_probe_ep_module`` in the group
``hermes_agent.plugins``: the entry point names this module, which has ``register``.
"""

from __future__ import annotations

from typing import Any

from kora_conformance.probes import journal
from kora_conformance.probes.common import SESSION_HOOK, hook_recorder

NAME = "probe_ep_module"


def register(ctx: Any) -> None:
    """Journal the call and register the session hook."""
    journal.record("register", NAME)
    ctx.register_hook(SESSION_HOOK, hook_recorder(NAME))
