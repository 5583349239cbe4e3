"""Mutant for KC-DM-005 (MUST): the startup runs the periodic task itself, once, at t=0.

To have fresh data at once, ``startup`` calls ``refresh`` before returning; the coordinator then
fires it every 5 minutes from one interval on, as it should. Its own fire counts are exactly
right, but the task ran at t=0, before one interval, from outside the coordinator's schedule
(two refreshes within one interval at start). It is a daemon-side-only daemon with an instance
(not pure-periodic), so only KC-DM-005 fails.
"""

from __future__ import annotations

from typing import Any

from reference_runtime import PeriodicTaskSpec


class Rates:
    """Exchange rates, refreshed every five minutes."""

    def __init__(self) -> None:
        self.refreshes = 0

    async def startup(self, coordinator: Any = None) -> None:
        # The bug: a fire at t=0, outside the coordinator's schedule.
        await self.refresh()

    async def shutdown(self) -> None:
        self.refreshes = 0

    async def refresh(self) -> None:
        self.refreshes += 1


RATES = Rates()


def register(ctx: Any) -> None:
    """Register the rates refresher."""
    ctx.register_background_daemon(
        "rates",
        RATES.startup,
        RATES.shutdown,
        periodic_task=PeriodicTaskSpec(300, RATES.refresh, "rates.refresh"),
    )
