"""Runtime probe: an entry-point plugin in the callable form (KC-RT-004).

Installed by the kit for the check as ``probe_ep_callable = kc_probe_ep_callable:register`` in
the group ``hermes_agent.plugins``: the entry point names the ``register`` function itself (the
form pip-installed Marvin uses, which the fork's loader could not load).
"""

from __future__ import annotations

from typing import Any

from kora_conformance.probes import journal
from kora_conformance.probes.common import SESSION_HOOK, hook_recorder

NAME = "probe_ep_callable"


def register(ctx: Any) -> None:
    """Journal the call and register the session hook."""
    journal.record("register", NAME)
    ctx.register_hook(SESSION_HOOK, hook_recorder(NAME))
