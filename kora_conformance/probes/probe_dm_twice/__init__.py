"""Runtime probe: the same daemon registered twice (KC-RT-006).

A module imported twice, or reloaded, registers its daemon again; with the same callbacks that is
a no-op: the plugin loads and ``kc_probe.twice`` appears once.
"""

from __future__ import annotations

from typing import Any

from kora_conformance.probes import journal

NAME = "probe_dm_twice"
DAEMON = "kc_probe.twice"


def startup(coordinator: object = None) -> None:
    journal.record("startup", DAEMON)


def shutdown() -> None:
    journal.record("shutdown", DAEMON)


def register(ctx: Any) -> None:
    """Register ``kc_probe.twice`` twice, identically."""
    ctx.register_background_daemon(DAEMON, startup, shutdown)
    ctx.register_background_daemon(DAEMON, startup, shutdown)
