"""Mutant for KC-DM-005 (MUST): state left by the first run breaks the second.

The worker's wake-up ``asyncio.Event`` is made on the first startup only and kept for the
process: an event binds to the event loop it is first waited on. The first run is clean; in a
second run (a second coordinator in the same process, as a restarted service or a test suite
has) the worker's ``wait`` raises ``RuntimeError`` (bound to a different event loop), so the
worker is dead and the shutdown, awaiting it, fails. Only KC-DM-005 fails.
"""

from __future__ import annotations

import asyncio
from typing import Any


class Worker:
    """Works whenever woken, until shut down."""

    def __init__(self) -> None:
        self.wake: asyncio.Event | None = None
        self.task: asyncio.Task[None] | None = None
        self.stopping = False

    async def startup(self, coordinator: Any = None) -> None:
        if self.wake is None:
            self.wake = asyncio.Event()  # the bug: made once, bound to the first run's loop
        self.stopping = False
        self.task = asyncio.ensure_future(self._work(self.wake))

    async def _work(self, wake: asyncio.Event) -> None:
        while not self.stopping:
            await wake.wait()
            wake.clear()

    async def shutdown(self) -> None:
        self.stopping = True
        if self.wake is not None:
            self.wake.set()
        if self.task is not None:
            await self.task


WORKER = Worker()


def register(ctx: Any) -> None:
    """Register the worker."""
    ctx.register_background_daemon("worker", WORKER.startup, WORKER.shutdown)
