"""Mutant for KC-DM-007 (SHOULD): a pure-periodic daemon, as methods of a plain class, on the
listener side.

The cleaner keeps nothing between startup and shutdown (both do nothing) and only has a periodic
task, yet it is registered as a listener too, so listener-side consumers list and start a
listener that is not one. Its no-op methods are bound to an instance of a plain class (not a
``DaemonListener``), which hides that it is pure-periodic from a check that looks only for
module-level functions. Only KC-DM-007 warns.
"""

from __future__ import annotations

from typing import Any

from reference_runtime import PeriodicTaskSpec


class Cleaner:
    """Deletes expired uploads."""

    def startup(self, coordinator: Any = None) -> None:
        """Nothing to start."""

    def shutdown(self) -> None:
        """Nothing to stop."""

    def purge(self) -> None:
        """Delete the expired uploads."""


CLEANER = Cleaner()


def register(ctx: Any) -> None:
    """Register the cleaner (the bug: on the listener side too)."""
    ctx.register_background_daemon(
        "cleaner",
        CLEANER.startup,
        CLEANER.shutdown,
        periodic_task=PeriodicTaskSpec(600, CLEANER.purge, "cleaner.purge"),
    )
    ctx.register_listener("cleaner", lambda: (CLEANER.startup, CLEANER.shutdown))
