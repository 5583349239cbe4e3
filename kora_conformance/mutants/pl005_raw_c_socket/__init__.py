"""Mutant for KC-PL-005 (MUST): a connection through ``_socket``, around :mod:`socket`.

At import it opens a TCP connection to 127.0.0.1:9 with the C module ``_socket`` directly, which
a guard that only patches :mod:`socket` never sees, and swallows any error. The audit-hook guard
of the check's process blocks and records it, and only KC-PL-005 fails.
"""

from __future__ import annotations

import _socket
import contextlib
from typing import Any

NAME = "pl005_raw_c_socket"

with contextlib.suppress(Exception):
    _socket.socket().connect(("127.0.0.1", 9))


def _on_session_start(**kwargs: Any) -> None:
    return None


def register(ctx: Any) -> None:
    """Register only a session hook; the import is the bug."""
    ctx.register_hook("on_session_start", _on_session_start)
