"""Runtime probe: the first claimant of the daemon name ``kc_probe.shared`` (KC-RT-006).

Enabled before ``probe_dm_claim_second``, which registers a different daemon under the same
name: this one keeps it, the second fails to load with an error naming both plugins.
"""

from __future__ import annotations

from typing import Any

from kora_conformance.probes import journal

NAME = "probe_dm_claim_first"
DAEMON = "kc_probe.shared"


def startup(coordinator: object = None) -> None:
    journal.record("startup", DAEMON, owner=NAME)


def shutdown() -> None:
    journal.record("shutdown", DAEMON, owner=NAME)


def register(ctx: Any) -> None:
    """Claim ``kc_probe.shared``."""
    ctx.register_background_daemon(DAEMON, startup, shutdown)
