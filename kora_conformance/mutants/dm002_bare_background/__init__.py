"""Mutant for KC-DM-002 (MUST): called bare, the startup spawns a task that needs the coordinator.

``startup(coordinator=None)`` accepts every form and returns normally in each, but it hands the
coordinator to the pump task it spawns, which sleeps on ``coordinator.clock``: called bare, as a
listener-side consumer does, the pump dies with ``AttributeError`` on its first step, out of
sight of the startup's own result, and the daemon never works. Only KC-DM-002 fails.
"""

from __future__ import annotations

import asyncio
import contextlib
from typing import Any


class Pump:
    """Moves queued events out every 30 seconds while started."""

    def __init__(self) -> None:
        self.task: asyncio.Task[None] | None = None

    async def startup(self, coordinator: Any = None) -> None:
        # The bug: the coordinator may be None here, and the pump needs its clock.
        self.task = asyncio.ensure_future(self._pump(coordinator))

    async def _pump(self, coordinator: Any) -> None:
        while True:
            await coordinator.clock.sleep(30)

    async def shutdown(self) -> None:
        if self.task is not None:
            self.task.cancel()
            with contextlib.suppress(BaseException):
                await self.task
            self.task = None


PUMP = Pump()


def register(ctx: Any) -> None:
    """Register the pump."""
    ctx.register_background_daemon("pump", PUMP.startup, PUMP.shutdown)
