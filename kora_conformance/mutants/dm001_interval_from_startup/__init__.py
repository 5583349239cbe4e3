"""Mutant for KC-DM-001 (MUST): the startup rewrites its registered task's interval to 0.

``register`` builds a valid spec (60 s) and registers it; ``startup`` then applies the
"configured" interval, read from a setting that defaults to 0, by writing it into the frozen spec
with ``object.__setattr__``. At load time every entry is well formed; by the time the
coordinator starts the drivers (after every startup) the interval is 0, and the task fires in a
tight loop at t=0. KC-DM-001 fails; KC-DM-005 fails too (its run spins until the watchdog).
"""

from __future__ import annotations

import os
from typing import Any

from reference_runtime import PeriodicTaskSpec


def refresh() -> None:
    """Refresh the cached feed."""


#: The registered task, valid when registered.
TASK = PeriodicTaskSpec(60, refresh, "feed.refresh")


def start(coordinator: Any = None) -> None:
    """Apply the configured interval (the bug: written into the registered spec; unset is 0)."""
    object.__setattr__(TASK, "interval_seconds", float(os.environ.get("DM001_FEED_SECONDS", "0")))


def stop() -> None:
    """Nothing to stop."""


def register(ctx: Any) -> None:
    """Register the feed refresher."""
    ctx.register_background_daemon("feed", start, stop, periodic_task=TASK)
