"""Mutant for KC-DM-002 (MUST): a daemon's startup requires its coordinator argument.

``start_worker(coordinator)`` has no default, so the coordinator (which passes it positionally)
starts it fine, but a listener-side consumer that calls ``startup()`` bare gets a ``TypeError``.
A ``DaemonListener`` subclass could not declare it (the class is refused when it is created),
so it is a plain function registered with ``register_background_daemon``. Only KC-DM-002 fails.
"""

from __future__ import annotations

from typing import Any

from reference_runtime import PeriodicTaskSpec

STATE: dict[str, Any] = {"clock": None, "beats": 0}


async def start_worker(coordinator: Any) -> None:
    """Start, remembering the coordinator's clock (the bug: no ``= None``)."""
    STATE["clock"] = getattr(coordinator, "clock", None)


async def stop_worker() -> None:
    """Stop."""
    STATE["clock"] = None


def heartbeat() -> None:
    """Count a heartbeat."""
    STATE["beats"] += 1


def register(ctx: Any) -> None:
    """Register the worker."""
    ctx.register_background_daemon(
        "worker",
        start_worker,
        stop_worker,
        periodic_task=PeriodicTaskSpec(30, heartbeat, "worker.heartbeat"),
    )
