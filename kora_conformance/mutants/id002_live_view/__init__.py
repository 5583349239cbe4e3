"""Mutant for KC-ID-002 (MUST): read-only metadata that the plugin keeps changing.

To save a copy per engine, every spec shares one module-level dict through a read-only view
(``MappingProxyType``, put in place with ``object.__setattr__``), and the provider records the
last engine's model in that dict. Assignment through the spec fails, as a read-only view must,
and two specs always compare equal (they show the same dict), yet every spec already handed out
changes on the next call. KC-ID-002 compares each spec's content after later calls with what it
was, and finds the view over a dict the module holds.
"""

from __future__ import annotations

import types
from typing import Any

from reference_runtime import IdentitySpec

NAME = "id002_live_view"

_METADATA: dict[str, Any] = {"agent_name": NAME, "plugin_name": NAME, "last_model": None}


def provider(*, engine: Any = None, **kwargs: Any) -> IdentitySpec:
    """Claim the identity over the shared metadata, updating it (the bug)."""
    _METADATA["last_model"] = getattr(engine, "model", None)
    spec = IdentitySpec("", f"You are {NAME}.")
    object.__setattr__(spec, "identity_metadata", types.MappingProxyType(_METADATA))
    return spec


def register(ctx: Any) -> None:
    """Register the provider."""
    ctx.register_identity_provider(provider)
