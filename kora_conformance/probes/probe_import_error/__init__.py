"""Runtime probe: its import raises (KC-RT-005).

The runtime must record the error against ``probe_import_error`` and still load the others.
"""

from __future__ import annotations

from typing import Any

from kora_conformance.probes import journal

NAME = "probe_import_error"


def register(ctx: Any) -> None:
    """Never reached: the import fails first."""
    journal.record("register", NAME)


def _explode() -> None:
    journal.record("import", NAME)
    msg = "probe_import_error: deliberate failure at import (kora-conformance probe)"
    raise RuntimeError(msg)


_explode()
