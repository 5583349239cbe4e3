"""Mutant for KC-DM-007 (SHOULD): a pure-periodic daemon is also on the listener side.

The janitor has nothing to start or stop (module-level no-op functions) and only a periodic
task, yet it is also registered as a listener, so listener-side consumers list and "start" a
listener that is not one (and one that is fatal if its startup fails). Both sides hold the same
functions and the coordinator starts it once, so only KC-DM-007 warns.
"""

from __future__ import annotations

from typing import Any

from reference_runtime import PeriodicTaskSpec


async def start_nothing(coordinator: Any = None) -> None:
    """Nothing to start."""


async def stop_nothing() -> None:
    """Nothing to stop."""


def clean_tmp() -> None:
    """Remove stale temporary files."""


def register(ctx: Any) -> None:
    """Register the janitor (the bug: on the listener side too)."""
    ctx.register_background_daemon(
        "janitor",
        start_nothing,
        stop_nothing,
        periodic_task=PeriodicTaskSpec(900, clean_tmp, "janitor.clean_tmp"),
    )
    ctx.register_listener("janitor", lambda: (start_nothing, stop_nothing))
