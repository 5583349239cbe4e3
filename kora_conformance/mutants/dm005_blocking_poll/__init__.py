"""Mutant for KC-DM-005 (MUST): a periodic callback blocks the event loop.

``poll`` waits for its upstream with a real ``time.sleep`` of ten minutes instead of awaiting
anything, so the first fire freezes every daemon of the process. Under the kit the run is
interrupted after its wall-clock budget and KC-DM-005 reports where it was blocked. It is a
pure-periodic daemon on the daemon side only, so the other daemon checks pass or skip.
"""

from __future__ import annotations

import time
from typing import Any

from reference_runtime import PeriodicTaskSpec

#: Seconds ``poll`` blocks (the bug: a real sleep inside the event loop).
BACKOFF = 600.0


async def start(coordinator: Any = None) -> None:
    """Nothing to start."""


async def stop() -> None:
    """Nothing to stop."""


def poll() -> None:
    """Poll the upstream, backing off while it is unavailable."""
    time.sleep(BACKOFF)


def register(ctx: Any) -> None:
    """Register the poller."""
    ctx.register_background_daemon(
        "upstream_poller", start, stop, periodic_task=PeriodicTaskSpec(60, poll, "upstream.poll")
    )
