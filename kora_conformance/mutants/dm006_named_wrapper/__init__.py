"""Mutant for KC-DM-006 (MUST): a task known to both sides fires twice, through a named wrapper.

The primary task (``Inbox.poll``) is on the daemon entry, and the listener side gets it again
wrapped in a named async function that awaits it (the fork's listener-side scheduler wanted a
plain coroutine function). The wrapper is a different callable, so both drivers run, and every
minute ``poll`` runs twice: once from its own driver, once inside the wrapper's fire. Each driver
fires once per interval, so KC-DM-005 passes; only KC-DM-006 fails.
"""

from __future__ import annotations

from typing import Any

from reference_runtime import DaemonListener, PeriodicTaskSpec


class Inbox(DaemonListener):
    """Polls for new messages every minute."""

    def __init__(self) -> None:
        self.polls = 0

    async def poll(self) -> None:
        self.polls += 1


INBOX = Inbox.instance()


async def poll_inbox() -> None:
    """The listener side's task (the bug: a wrapper around the primary task)."""
    await INBOX.poll()


def register(ctx: Any) -> None:
    """Register the inbox on both sides."""
    ctx.register_dual_listener(
        "inbox",
        INBOX,
        periodic_task=PeriodicTaskSpec(60, INBOX.poll, "inbox.poll"),
        listener_side_tasks=[PeriodicTaskSpec(60, poll_inbox, "inbox.poll.listener")],
    )
