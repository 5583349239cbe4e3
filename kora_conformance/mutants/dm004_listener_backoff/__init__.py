"""Mutant for KC-DM-004 (MUST): a listener-side task's interval changes with every import.

The listener-side sync interval comes from a backoff kept in a submodule (``_backoff``), which
doubles it each time the package is imported; ``importlib.reload`` of the package does not
re-execute the submodule. The names stay the same, and the listener side replaces a task of the
same name without error, so a reload silently halves how often the listener syncs (30 s, then
60 s, 120 s...). Only KC-DM-004 fails.
"""

from __future__ import annotations

from typing import Any

from reference_runtime import DaemonListener, PeriodicTaskSpec

from ._backoff import next_interval

INTERVAL = next_interval()


class Mirror(DaemonListener):
    """Mirrors a remote folder: a full scan every hour, a quick sync in between."""

    def scan(self) -> None:
        """Scan the whole remote folder."""

    def sync(self) -> None:
        """Pull recent remote changes."""


def register(ctx: Any) -> None:
    """Register the mirror on both sides; its quick sync stays on the listener side."""
    mirror = Mirror.instance()
    ctx.register_dual_listener(
        "mirror",
        mirror,
        periodic_task=PeriodicTaskSpec(3600, mirror.scan, "mirror.scan"),
        listener_side_tasks=[PeriodicTaskSpec(INTERVAL, mirror.sync, "mirror.sync")],
    )
