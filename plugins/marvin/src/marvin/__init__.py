"""Marvin: an identity plugin for Hermes/Kora runtimes.

``register(ctx)`` adds one identity provider that always claims, with the persona and the system
prompt shipped in ``data/``. The texts are read once, at import, so a missing data file fails
loudly when the plugin loads rather than when an engine is built.
"""

from __future__ import annotations

import logging
from importlib import resources
from typing import Any

from agent.identity_spec import IdentitySpec

__all__ = ["marvin_identity_provider", "register"]

__version__ = "0.1.0"

_log = logging.getLogger(__name__)

_DATA = resources.files(__name__) / "data"
_PERSONA = (_DATA / "MARVIN.md").read_text(encoding="utf-8")
_SYSTEM_PROMPT = (_DATA / "marvin_system_prompt.md").read_text(encoding="utf-8")


def marvin_identity_provider(*, engine: Any = None, **kwargs: Any) -> IdentitySpec:
    """Claim the identity as Marvin, whatever the engine."""
    return IdentitySpec(
        soul_md_content=_PERSONA,
        system_prompt_content=_SYSTEM_PROMPT,
        identity_metadata={
            "agent_name": "Marvin",
            "agent_version": __version__,
            "plugin_name": "marvin",
            "persona": "paranoid_android",
        },
    )


def register(ctx: Any) -> None:
    """Register Marvin's identity provider with the runtime."""
    ctx.register_identity_provider(marvin_identity_provider)
    _log.info(
        "identity provider registered (persona %d chars, system prompt %d chars)",
        len(_PERSONA),
        len(_SYSTEM_PROMPT),
    )
