"""Background listeners in the three shapes of the daemon contract.

- ``inbox``: a listener class on both sides, polling every minute while connected;
- ``digest_compactor``: a pure-periodic daemon, on the daemon side only, compacting every hour;
- ``telemetry``: a multi-task listener; its entry carries the primary task (persist, every five
  minutes) and the hourly rollup stays on the listener side.

The listeners are process-wide singletons (``Inbox.instance()``), so loading the plugin twice or
reloading this module registers nothing twice and never splits their state.
"""

from __future__ import annotations

import datetime as dt
import logging
from typing import Any

from reference_runtime import DaemonListener, PeriodicTaskSpec

__all__ = ["Inbox", "Telemetry", "compact_digest", "register"]

_log = logging.getLogger(__name__)


class Inbox(DaemonListener):
    """Polls a mailbox while connected."""

    def __init__(self) -> None:
        self.connected = False
        self.polls = 0

    async def startup(self, coordinator: Any = None) -> None:
        self.connected = True

    async def shutdown(self) -> None:
        self.connected = False

    async def poll(self) -> None:
        if self.connected:
            self.polls += 1


class Telemetry(DaemonListener):
    """Buffers counters, persists them often and rolls them up hourly."""

    def __init__(self) -> None:
        self.persisted = 0
        self.rollups = 0

    def persist(self) -> None:
        self.persisted += 1

    def rollup(self) -> None:
        self.rollups += 1


async def _start_nothing(coordinator: Any = None) -> None:
    _log.debug("digest_compactor has nothing to start")


async def _stop_nothing() -> None:
    _log.debug("digest_compactor has nothing to stop")


def compact_digest() -> None:
    """Hourly housekeeping that needs no state of its own."""
    _log.info("digest compacted at %s", dt.datetime.now(dt.timezone.utc).isoformat())


def register(ctx: Any) -> None:
    """Register the three daemons."""
    inbox = Inbox.instance()
    ctx.register_dual_listener(
        "inbox", inbox, periodic_task=PeriodicTaskSpec(60, inbox.poll, "inbox.poll")
    )
    ctx.register_background_daemon(
        "digest_compactor",
        _start_nothing,
        _stop_nothing,
        periodic_task=PeriodicTaskSpec(3600, compact_digest, "digest.compact"),
    )
    telemetry = Telemetry.instance()
    ctx.register_dual_listener(
        "telemetry",
        telemetry,
        periodic_task=PeriodicTaskSpec(300, telemetry.persist, "telemetry.persist"),
        listener_side_tasks=[PeriodicTaskSpec(3600, telemetry.rollup, "telemetry.rollup")],
    )
