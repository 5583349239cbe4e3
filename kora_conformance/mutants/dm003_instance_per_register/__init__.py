"""Mutant for KC-DM-003 (MUST): ``register`` builds the listener's instance each time it runs.

On one load both sides hold the bound methods of the one ``Relay`` that ``register`` built. But a
re-import runs ``register`` again: the daemon side sees the same daemon (same import paths) and
keeps its entry, bound to the first instance, while the listener side takes the new factory,
bound to a second one. From then on a listener-side consumer starts one instance and the
coordinator shuts down another. Only KC-DM-003 fails.
"""

from __future__ import annotations

from typing import Any


class Relay:
    """Holds a connection between startup and shutdown."""

    def __init__(self) -> None:
        self.connected = False

    async def startup(self, coordinator: Any = None) -> None:
        self.connected = True

    async def shutdown(self) -> None:
        self.connected = False


def register(ctx: Any) -> None:
    """Register the relay on both sides (the bug: a new instance per register call)."""
    relay = Relay()
    ctx.register_background_daemon("relay", relay.startup, relay.shutdown)
    ctx.register_listener("relay", lambda: (relay.startup, relay.shutdown))
