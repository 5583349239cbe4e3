"""Mutant for KC-ID-005 (MUST): the spec depends on the clock.

The system prompt tells the model today's date, read at every call. Calls on one day give equal
specs, so calls back to back never show it; after midnight the identity changes. KC-ID-005 calls
the provider again with the clock moved.
"""

from __future__ import annotations

import datetime
from typing import Any

from reference_runtime import IdentitySpec

NAME = "id005_dated_prompt"


def provider(*, engine: Any = None, **kwargs: Any) -> IdentitySpec:
    """Claim the identity, dated (the bug)."""
    today = datetime.date.today().isoformat()
    prompt = f"You are {NAME}. Today is {today}."
    return IdentitySpec("", prompt, {"agent_name": NAME, "plugin_name": NAME})


def register(ctx: Any) -> None:
    """Register the provider."""
    ctx.register_identity_provider(provider)
