"""Mutant for KC-DM-003 (MUST): the two sides hold bound methods of different instances.

The daemon side gets the process-wide ``Poller.instance()``, but the listener-side factory
builds a fresh ``Poller()`` on every call (a port of the fork's ``LISTENER_REGISTRY`` factory
that was never updated). A consumer starting the listener side connects one instance while the
other side shuts down another, so the connection is never closed. Only KC-DM-003 fails.
"""

from __future__ import annotations

from typing import Any

from reference_runtime import DaemonListener


class Poller(DaemonListener):
    """Keeps a connection open between startup and shutdown."""

    def __init__(self) -> None:
        self.connected = False

    async def startup(self, coordinator: Any = None) -> None:
        self.connected = True

    async def shutdown(self) -> None:
        self.connected = False


def listener_factory() -> tuple[Any, Any, float]:
    """The listener side's factory (the bug: a new instance per call)."""
    poller = Poller()
    return poller.startup, poller.shutdown, 5.0


def register(ctx: Any) -> None:
    """Register the poller on both sides."""
    poller = Poller.instance()
    ctx.register_background_daemon("poller", poller.startup, poller.shutdown)
    ctx.register_listener("poller", listener_factory)
