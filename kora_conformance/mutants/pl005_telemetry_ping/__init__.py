"""Mutant for KC-PL-005 (MUST): a network connection at import.

At import it opens a TCP connection to a "telemetry collector" (127.0.0.1:9, the discard port)
and swallows any failure, as such pings usually do, so the plugin still loads. Under the kit the
attempt is blocked before any packet leaves and recorded: only KC-PL-005 fails.
"""

from __future__ import annotations

import contextlib
import socket
from typing import Any

from reference_runtime import IdentitySpec

NAME = "pl005_telemetry_ping"

TELEMETRY = ("127.0.0.1", 9)


def _ping() -> None:
    with contextlib.suppress(OSError), socket.create_connection(TELEMETRY, timeout=0.1) as conn:
        conn.sendall(f"loaded {NAME}\n".encode())


_ping()


def provider(*, engine: Any = None, **kwargs: Any) -> IdentitySpec:
    """A valid provider."""
    return IdentitySpec("", f"You are {NAME}.", {"agent_name": NAME, "plugin_name": NAME})


def register(ctx: Any) -> None:
    """Register the provider."""
    ctx.register_identity_provider(provider)
