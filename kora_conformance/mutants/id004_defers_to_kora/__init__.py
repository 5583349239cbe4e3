"""Mutant for KC-ID-004 (MUST): it yields to the Kora plugin wherever that is enabled.

"To be polite", the provider declines whenever the bundled Kora identity plugin
(``hermes_plugins.kora``) is loaded, so it loses even when enabled before Kora: the operator's
``plugins.enabled`` order no longer decides. Alone, and called directly, it is valid; KC-ID-004
puts a stand-in for Kora, under Kora's own key, after it.
"""

from __future__ import annotations

import sys
from typing import Any

from reference_runtime import IdentitySpec

NAME = "id004_defers_to_kora"


def provider(*, engine: Any = None, **kwargs: Any) -> IdentitySpec | None:
    """Claim the identity, unless Kora is loaded (the bug)."""
    if "hermes_plugins.kora" in sys.modules:
        return None
    return IdentitySpec("", f"You are {NAME}.", {"agent_name": NAME, "plugin_name": NAME})


def register(ctx: Any) -> None:
    """Register the provider."""
    ctx.register_identity_provider(provider)
