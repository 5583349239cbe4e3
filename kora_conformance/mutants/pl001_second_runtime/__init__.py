"""Mutant for KC-PL-001 (MUST): the plugin loads into the first runtime of a process only.

``register`` guards against "double registration" with a module-level flag and raises once it
is set, so a second runtime in the same process (a multi-tenant host, a test suite, a worker
that builds a runtime per job) cannot load the plugin. A re-import resets the flag, so a reload
check does not see it; KC-PL-001 loads the plugin into a second fresh runtime.
"""

from __future__ import annotations

from typing import Any

NAME = "pl001_second_runtime"

SESSIONS: list[dict[str, Any]] = []

_registered = False


def on_session_start(**kwargs: Any) -> None:
    """Record the session."""
    SESSIONS.append(kwargs)


def register(ctx: Any) -> None:
    """Register the session hook, once per process (the bug)."""
    global _registered  # noqa: PLW0603 - the bug is this process-wide flag
    if _registered:
        msg = f"{NAME} is already registered"
        raise RuntimeError(msg)
    _registered = True
    ctx.register_hook("on_session_start", on_session_start)
