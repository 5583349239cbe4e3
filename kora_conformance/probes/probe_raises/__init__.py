"""Runtime probe: an identity provider that raises (KC-RT-002).

The runtime must skip it with a WARNING naming ``probe_raises`` and consult the next provider.
"""

from __future__ import annotations

from typing import Any

from kora_conformance.probes.common import identity_recorder

NAME = "probe_raises"


def _explode() -> Any:
    msg = "probe_raises: deliberate provider failure (kora-conformance probe)"
    raise RuntimeError(msg)


provider = identity_recorder(NAME, _explode)


def register(ctx: Any) -> None:
    """Register the provider."""
    ctx.register_identity_provider(provider)
