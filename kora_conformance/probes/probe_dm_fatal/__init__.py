"""Runtime probe: the fatal startup rule (KC-RT-007).

Daemons, in registration order (see :data:`~kora_conformance.probes.common.FATAL_DAEMONS`):
``kc_probe.fatal_b`` and ``kc_probe.fatal_a`` (periodic recorders) start; ``kc_probe.fatal``
raises with ``fatal_on_startup_failure=True``; ``kc_probe.fatal_never`` must then never start,
no periodic task may fire, ``fatal_a`` then ``fatal_b`` shut down, and the exit status is
non-zero.
"""

from __future__ import annotations

from typing import Any

from agent.background_daemon_registry import PeriodicTaskSpec  # type: ignore[import-not-found]

from kora_conformance.probes.common import (
    FATAL_DAEMONS,
    INTERVAL,
    failing_startup,
    recorder,
)

FATAL = FATAL_DAEMONS[2]


def _noop_shutdown() -> None:
    return None


def register(ctx: Any) -> None:
    """Register the four daemons, in order."""
    for name in FATAL_DAEMONS:
        if name == FATAL:
            ctx.register_background_daemon(
                name, failing_startup(name), _noop_shutdown, fatal_on_startup_failure=True
            )
        else:
            startup, shutdown, fire = recorder(name)
            task = PeriodicTaskSpec(INTERVAL, fire, name=f"{name}.tick")
            ctx.register_background_daemon(name, startup, shutdown, periodic_task=task)
