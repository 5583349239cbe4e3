"""Mutant for KC-PL-019: a plugin that catches every error of its optional registrations.

Its slash command is "optional", so the call is wrapped in ``except Exception: pass``. The call
passes ``descripton=`` (a typo of ``description``), which the context's signature does not take:
the ``TypeError`` is swallowed, the command is never registered, and only the hook remains.
KC-PL-019 fails, naming the call and the error.
"""

from __future__ import annotations

import contextlib
from typing import Any


def _ping(raw_args: str = "", **kwargs: Any) -> str:
    return "pong"


def _on_session_start(**kwargs: Any) -> None:
    return None


def register(ctx: Any) -> None:
    """Register a command (refused: a misspelt keyword) and a hook."""
    with contextlib.suppress(Exception):  # the bug: any failure of the command is passed over
        ctx.register_command("kc-ping", _ping, descripton="answers pong")
    ctx.register_hook("on_session_start", _on_session_start)
