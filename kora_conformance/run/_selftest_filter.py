"""The self-test's certifications run only the check each mutant is there to break.

``pytest --kora-selftest`` certifies its mutants in subprocesses; each asks only one question of
a mutant, whether its own check fails. This plugin, loaded into those subprocesses with ``-p``,
deselects every other check of every target, so a mutant of KC-PL-003 does not also pay for the
forty checks that have nothing to say about it. A check runs in a process of its own whatever
else runs, so its outcome on a target is the same alone as among the others.

The wanted pairs come in the environment variable :data:`ONLY_ENV`, a JSON list of
``[location, check_id]``; without it, nothing is deselected.
"""

from __future__ import annotations

import json
import os
from typing import Final

import pytest

from kora_conformance.run._items import CheckItem

__all__ = ["ONLY_ENV", "pytest_collection_modifyitems"]

#: The environment variable naming the ``[location, check_id]`` pairs to keep.
ONLY_ENV: Final = "KORA_SELFTEST_ONLY"


def _wanted() -> frozenset[tuple[str, str]] | None:
    raw = os.environ.get(ONLY_ENV)
    if raw is None:
        return None
    return frozenset((str(location), str(check)) for location, check in json.loads(raw))


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Keep only the wanted checks of the wanted targets (every item outside the kit stays)."""
    wanted = _wanted()
    if wanted is None:
        return
    kept: list[pytest.Item] = []
    dropped: list[pytest.Item] = []
    for item in items:
        keep = not isinstance(item, CheckItem) or (item.target.location, item.check.id) in wanted
        (kept if keep else dropped).append(item)
    if dropped:
        config.hook.pytest_deselected(items=dropped)
        items[:] = kept
