"""Runtime probe: the second claimant of the daemon name ``kc_probe.shared`` (KC-RT-006).

Enabled after ``probe_dm_claim_first``, it registers a different daemon under the same name:
the runtime must refuse it (this plugin fails to load, the error naming both plugins).
"""

from __future__ import annotations

from typing import Any

from kora_conformance.probes import journal

NAME = "probe_dm_claim_second"
DAEMON = "kc_probe.shared"


def startup(coordinator: object = None) -> None:
    journal.record("startup", DAEMON, owner=NAME)


def shutdown() -> None:
    journal.record("shutdown", DAEMON, owner=NAME)


def register(ctx: Any) -> None:
    """Claim ``kc_probe.shared``."""
    ctx.register_background_daemon(DAEMON, startup, shutdown)
