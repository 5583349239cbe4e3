"""Mutant for KC-PL-005 (MUST): a UDP datagram at import.

At import it sends one UDP datagram (a "telemetry beacon") to 127.0.0.1:9, the discard port, and
swallows any error, so the plugin still loads. UDP needs no connection, so only a guard on
``sendto`` catches it: under the kit the send is blocked and recorded, and only KC-PL-005 fails.
"""

from __future__ import annotations

import contextlib
import socket
from typing import Any

from reference_runtime import IdentitySpec

NAME = "pl005_udp_beacon"

BEACON = ("127.0.0.1", 9)


def _beacon() -> None:
    with (
        contextlib.suppress(OSError),
        socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock,
    ):
        sock.sendto(f"loaded {NAME}\n".encode(), BEACON)


_beacon()


def provider(*, engine: Any = None, **kwargs: Any) -> IdentitySpec:
    """A valid provider."""
    return IdentitySpec("", f"You are {NAME}.", {"agent_name": NAME, "plugin_name": NAME})


def register(ctx: Any) -> None:
    """Register the provider."""
    ctx.register_identity_provider(provider)
