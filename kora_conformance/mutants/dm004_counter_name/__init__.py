"""Mutant for KC-DM-004 (MUST): a reload registers the daemon again under a new name.

Each import of this module takes a worker number from a process-wide counter kept in a submodule
(``_ids``), which ``importlib.reload`` of the package does not re-execute, and names the daemon
``sync.worker-<n>``. Loading the plugin into several runtimes is fine (one import, one name),
but after a reload the next ``register`` claims ``sync.worker-2`` beside ``sync.worker-1``: two
daemons for one worker. Only KC-DM-004 fails (KC-PL-006 compares hooks and providers only).
"""

from __future__ import annotations

from typing import Any

from reference_runtime import PeriodicTaskSpec

from ._ids import next_worker_id

NAME = f"sync.worker-{next_worker_id()}"


async def start(coordinator: Any = None) -> None:
    """Nothing to start."""


async def stop() -> None:
    """Nothing to stop."""


def sync() -> None:
    """Synchronise."""


def register(ctx: Any) -> None:
    """Register the numbered worker."""
    ctx.register_background_daemon(
        NAME, start, stop, periodic_task=PeriodicTaskSpec(120, sync, "sync.run")
    )
