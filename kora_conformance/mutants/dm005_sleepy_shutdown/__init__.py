"""Mutant for KC-DM-005 (MUST): an async shutdown blocks the event loop past its timeout.

``shutdown`` is ``async`` but waits for its buffer to flush with a real ``time.sleep`` of a
second, while its ``shutdown_timeout`` is a quarter of one: the whole loop (every other daemon's
shutdown with it) stands still meanwhile. In virtual time no time passes while the loop is
blocked, so the shutdown "finishes within its timeout"; only the wall clock shows it. The sleep
stays under the kit's wall-clock budget for a whole run. Only KC-DM-005 fails.
"""

from __future__ import annotations

import time
from typing import Any

#: Real seconds the flush blocks (the bug: a blocking sleep in an async shutdown).
FLUSH_SECONDS = 1.0


async def start(coordinator: Any = None) -> None:
    """Nothing to start."""


async def flush_and_stop() -> None:
    """Flush the buffer (the bug: blocking the loop)."""
    time.sleep(FLUSH_SECONDS)


def register(ctx: Any) -> None:
    """Register the buffered writer."""
    ctx.register_background_daemon("writer", start, flush_and_stop, shutdown_timeout=0.25)
