"""The backoff state of the mutant: kept in a submodule, which a reload of the package keeps."""

from __future__ import annotations

_seconds = [30.0]


def next_interval() -> float:
    """The current interval; each call doubles the next (the bug: called at every import)."""
    current = _seconds[0]
    _seconds[0] = current * 2
    return current
