"""Runtime probe: an identity provider that declines (returns ``None``) and journals each call
with the ``engine`` it received (KC-RT-002, 003, 008, 009)."""

from __future__ import annotations

from typing import Any

from kora_conformance.probes.common import identity_recorder

NAME = "probe_declines"
provider = identity_recorder(NAME, lambda: None)


def register(ctx: Any) -> None:
    """Register the provider."""
    ctx.register_identity_provider(provider)
