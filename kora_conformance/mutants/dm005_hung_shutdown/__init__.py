"""Mutant for KC-DM-005 (MUST): a daemon's shutdown never finishes.

``shutdown`` waits for the drain of a queue that ``startup`` never began to drain: the event is
never set, so the coordinator gives up after ``shutdown_timeout`` (2 s, virtual) and logs a
timeout. The daemon has no periodic task and nothing on the listener side, so only KC-DM-005
(shutdown within its timeout) fails.
"""

from __future__ import annotations

import asyncio
from typing import Any


class Outbox:
    """Sends queued messages; shutdown waits until the queue is drained."""

    def __init__(self) -> None:
        self.drained: asyncio.Event | None = None

    async def startup(self, coordinator: Any = None) -> None:
        self.drained = asyncio.Event()

    async def shutdown(self) -> None:
        # The bug: nothing ever sets the event.
        drained = self.drained or asyncio.Event()
        await drained.wait()


OUTBOX = Outbox()


def register(ctx: Any) -> None:
    """Register the outbox."""
    ctx.register_background_daemon("outbox", OUTBOX.startup, OUTBOX.shutdown, shutdown_timeout=2.0)
