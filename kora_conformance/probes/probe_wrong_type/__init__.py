"""Runtime probe: an identity provider that returns the prompt as a ``str`` (KC-RT-002).

The runtime must skip it with a WARNING naming ``probe_wrong_type`` and consult the next one.
"""

from __future__ import annotations

from typing import Any

from kora_conformance.probes.common import identity_recorder

NAME = "probe_wrong_type"
provider = identity_recorder(NAME, lambda: "You are Wrong-Type (a str, not an IdentitySpec).")


def register(ctx: Any) -> None:
    """Register the provider."""
    ctx.register_identity_provider(provider)
