"""Mutant for KC-DM-001 (MUST): a periodic task's interval is forced to 0 after validation.

``PeriodicTaskSpec`` refuses an interval of 0, so the plugin builds a valid spec and then writes
``interval_seconds = 0`` into the frozen dataclass with ``object.__setattr__`` (a "configurable
interval" read from a setting that defaults to 0). The registry does not validate a spec again,
so the entry registers; a coordinator would then fire the task at t=0 in a tight loop. Only
KC-DM-001 fails: the lifecycle and scheduling checks skip a malformed plugin.
"""

from __future__ import annotations

import os
from typing import Any

from reference_runtime import PeriodicTaskSpec

#: The bug: an unset setting means 0 seconds, written past the spec's validation.
INTERVAL = float(os.environ.get("DM001_SWEEP_SECONDS", "0"))


async def start(coordinator: Any = None) -> None:
    """Nothing to start."""


async def stop() -> None:
    """Nothing to stop."""


def sweep() -> None:
    """Sweep expired sessions."""


def register(ctx: Any) -> None:
    """Register the sweeper with the configured interval."""
    task = PeriodicTaskSpec(60, sweep, "sweeper.sweep")
    object.__setattr__(task, "interval_seconds", INTERVAL)
    ctx.register_background_daemon("sweeper", start, stop, periodic_task=task)
