"""Runtime probe: the coordinator's lifecycle with a non-fatal failure and a hung shutdown
(KC-RT-007).

Daemons, in registration order (see :data:`~kora_conformance.probes.common.LIFECYCLE_DAEMONS`):

1. ``kc_probe.rec_c``: journals startup, shutdown and each periodic fire (every ``INTERVAL``).
2. ``kc_probe.nonfatal``: its startup raises; not fatal, so the others still start.
3. ``kc_probe.rec_a``: like ``rec_c``.
4. ``kc_probe.hang``: its async startup yields for a moment of real time (periodic drivers
   started before it finished would fire meanwhile on a virtual clock); its shutdown hangs past
   its ``HANG_TIMEOUT``, which is longer than the interval.
"""

from __future__ import annotations

from typing import Any

from agent.background_daemon_registry import PeriodicTaskSpec  # type: ignore[import-not-found]

from kora_conformance.probes.common import (
    HANG_TIMEOUT,
    INTERVAL,
    LIFECYCLE_DAEMONS,
    failing_startup,
    hanging_shutdown,
    recorder,
    slow_startup,
)

REC_C, NONFATAL, REC_A, HANG = LIFECYCLE_DAEMONS


def _hang_startup(coordinator: object = None) -> Any:
    return slow_startup(HANG)


def _hang_shutdown() -> Any:
    return hanging_shutdown(HANG)


def _noop_shutdown() -> None:
    return None


def register(ctx: Any) -> None:
    """Register the four daemons, in order."""
    for name in (REC_C, NONFATAL, REC_A, HANG):
        if name == NONFATAL:
            ctx.register_background_daemon(
                name, failing_startup(name), _noop_shutdown, fatal_on_startup_failure=False
            )
        elif name == HANG:
            ctx.register_background_daemon(
                name, _hang_startup, _hang_shutdown, shutdown_timeout=HANG_TIMEOUT
            )
        else:
            startup, shutdown, fire = recorder(name)
            task = PeriodicTaskSpec(INTERVAL, fire, name=f"{name}.tick")
            ctx.register_background_daemon(name, startup, shutdown, periodic_task=task)
