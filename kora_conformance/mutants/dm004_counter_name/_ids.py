"""Worker numbers for the mutant: a counter that outlives reloads of the package."""

from __future__ import annotations

import itertools

_counter = itertools.count(1)


def next_worker_id() -> int:
    """The next worker number in this process."""
    return next(_counter)
