"""Runtime probe: tries the runtime's ``IdentitySpec``, imported as plugins import it, and
journals what it does wrong (KC-RT-012)."""

from __future__ import annotations

from typing import Any

from kora_conformance.probes import journal
from kora_conformance.probes.common import hook_recorder
from kora_conformance.probes.spec_trials import trials

NAME = "probe_spec_type"


def register(ctx: Any) -> None:
    """Try the spec type, journal the problems, and register a session hook."""
    from agent.identity_spec import IdentitySpec  # type: ignore[import-not-found]  # noqa: PLC0415

    journal.record("spec_trials", NAME, problems=tuple(trials(IdentitySpec)))
    ctx.register_hook("on_session_start", hook_recorder(NAME))
