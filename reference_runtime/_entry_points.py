"""Installed distributions' plugin entry points, read without trusting their metadata.

A distribution with unreadable metadata, or an ``entry_points.txt`` with one bad line, costs only
what is broken: the standard parser gives up on a whole file, so a file it rejects is read again
line by line, and each thing skipped is reported as a warning naming the distribution.
"""

from __future__ import annotations

import importlib.metadata
import re
from collections.abc import Callable, Iterator, Sequence

from ._errors import quote

__all__ = ["dist_label", "installed_entry_points"]


_SEPARATORS = re.compile(r"[-_.]+")


def dist_label(dist: importlib.metadata.Distribution) -> str:
    """The distribution's name for messages, without trusting its metadata."""
    path = getattr(dist, "_path", None)
    try:
        name = dist.metadata["Name"]
    except Exception:  # noqa: BLE001 - unreadable METADATA: describe it by its location
        name = None
    if isinstance(name, str) and name:
        return f"{name} ({path})" if path is not None else name
    return f"the distribution at {path}" if path is not None else "a distribution"


def _lenient_entry_points(
    dist: importlib.metadata.Distribution,
    groups: frozenset[str],
    warn: Callable[[str], None],
    failure: Exception,
) -> list[importlib.metadata.EntryPoint]:
    """Read ``entry_points.txt`` line by line, keeping the good entries in ``groups``.

    Used when the standard parser gave up on the whole file because of one bad line.
    """
    try:
        text = dist.read_text("entry_points.txt")
    except Exception as exc:  # noqa: BLE001 - e.g. not UTF-8
        text, failure = None, exc
    if text is None:
        warn(
            f"{dist_label(dist)}: its entry_points.txt cannot be read "
            f"({type(failure).__name__}: {failure}); its plugins, if any, are ignored"
        )
        return []
    entries: list[importlib.metadata.EntryPoint] = []
    group = ""
    for number, raw in enumerate(text.splitlines(), start=1):
        line = raw.strip()
        if not line or line.startswith(("#", ";")):
            continue
        if line.startswith("["):
            group = line[1:-1].strip() if line.endswith("]") else ""
            continue
        if group not in groups:
            continue
        name, sep, value = line.partition("=")
        if not sep or not name.strip() or not value.strip():
            warn(
                f"{dist_label(dist)}: entry_points.txt line {number} ({quote(line)}) in "
                f"[{group}] is not 'name = module[:attr]'; ignored"
            )
            continue
        entries.append(importlib.metadata.EntryPoint(name.strip(), value.strip(), group))
    return entries


def installed_entry_points(
    groups: Sequence[str], warn: Callable[[str], None]
) -> Iterator[tuple[importlib.metadata.EntryPoint, importlib.metadata.Distribution]]:
    """Entry points in ``groups``, in group order, each with its distribution.

    Distributions are read one by one, so one with unreadable metadata costs only itself. As in
    :func:`importlib.metadata.entry_points`, a distribution found twice on ``sys.path`` counts
    once (the first). What cannot be read is passed to ``warn``, one message each, and
    skipped.
    """
    wanted = frozenset(groups)
    if not wanted:
        # Reading every installed distribution costs tens of milliseconds; a runtime told to
        # search no group must not pay it on each load.
        return
    collected: list[tuple[importlib.metadata.EntryPoint, importlib.metadata.Distribution]] = []
    seen: set[str] = set()
    try:
        distributions = list(importlib.metadata.distributions())
    except Exception as exc:  # noqa: BLE001 - a hostile sys.path entry
        warn(f"installed distributions cannot be listed ({type(exc).__name__}: {exc})")
        distributions = []
    for dist in distributions:
        try:
            normalized = getattr(dist, "_normalized_name", None)
        except Exception:  # noqa: BLE001 - it may read metadata
            normalized = None
        if isinstance(normalized, str):
            normalized = _SEPARATORS.sub("_", normalized).lower()
            if normalized in seen:
                continue
            seen.add(normalized)
        try:
            entries = list(dist.entry_points)
        except Exception as exc:  # noqa: BLE001 - one bad line must not hide the rest
            entries = _lenient_entry_points(dist, wanted, warn, exc)
        collected.extend((ep, dist) for ep in entries if ep.group in wanted)
    for group in groups:
        yield from ((ep, dist) for ep, dist in collected if ep.group == group)
