"""Mutant for KC-DM-006 (MUST): a task known to both sides fires twice per interval.

The listener's primary task goes on its daemon entry (``periodic_task``) and, again, on the
listener side wrapped in a lambda under another name (the listener-side scheduler of the fork
wanted a zero-argument callable). The reference coordinator recognises a task on both sides by
its callback, and the lambda is a different callable, so both drivers run: ``Mailbox.fetch``
runs twice every minute. Each driver does fire once per interval, so KC-DM-005 passes; only
KC-DM-006 fails.
"""

from __future__ import annotations

from typing import Any

from reference_runtime import DaemonListener, PeriodicTaskSpec


class Mailbox(DaemonListener):
    """Fetches new mail every minute while connected."""

    def __init__(self) -> None:
        self.connected = False
        self.fetches = 0

    async def startup(self, coordinator: Any = None) -> None:
        self.connected = True

    async def shutdown(self) -> None:
        self.connected = False

    async def fetch(self) -> None:
        if self.connected:
            self.fetches += 1


def register(ctx: Any) -> None:
    """Register the mailbox on both sides (the bug: the lambda on the listener side)."""
    mailbox = Mailbox.instance()
    ctx.register_dual_listener(
        "mailbox",
        mailbox,
        periodic_task=PeriodicTaskSpec(60, mailbox.fetch, "mailbox.fetch"),
        listener_side_tasks=[
            # The bug: a wrapper where the bound method itself belongs.
            PeriodicTaskSpec(60, lambda: mailbox.fetch(), "mailbox.fetch.listener"),  # noqa: PLW0108
        ],
    )
