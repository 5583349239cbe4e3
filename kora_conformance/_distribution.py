"""A minimal installed distribution written by hand, so that entry points are discoverable.

The kit certifies projects that are not installed (a plugin repository) and installs its own
entry-point probes for the runtime checks; both need ``importlib.metadata`` to find entry points
without running an installer. Writing ``METADATA`` and ``entry_points.txt`` into a
``.dist-info`` directory on ``sys.path`` is all the metadata machinery reads.
"""

from __future__ import annotations

import importlib
import sys
from collections.abc import Mapping
from pathlib import Path

__all__ = ["write_distribution"]


def write_distribution(
    root: Path,
    name: str,
    version: str,
    entry_points: Mapping[str, Mapping[str, str]],
    *,
    summary: str = "",
    path: tuple[Path, ...] = (),
) -> Path:
    """Write ``<root>/<name>-<version>.dist-info`` declaring ``entry_points`` and return it.

    :param entry_points: group → entry-point name → value (``module`` or ``module:attr``).
    :param path: directories to put before everything else on ``sys.path``, after ``root``
        itself (which is always put there, so the distribution is found); the caller's sandbox
        restores ``sys.path``.
    """
    stem = name.replace("-", "_")
    dist = root / f"{stem}-{version}.dist-info"
    dist.mkdir(parents=True, exist_ok=True)
    metadata = f"Metadata-Version: 2.1\nName: {name}\nVersion: {version}\n"
    if summary:
        metadata += f"Summary: {summary}\n"
    (dist / "METADATA").write_text(metadata, encoding="utf-8")
    lines = []
    for group, entries in entry_points.items():
        lines.append(f"[{group}]")
        lines += [f"{key} = {value}" for key, value in entries.items()]
    (dist / "entry_points.txt").write_text("\n".join(lines) + "\n", encoding="utf-8")
    sys.path[:0] = [str(root), *(str(p) for p in path)]
    importlib.invalidate_caches()
    return dist
