"""Finding plugins: directories under search roots and installed entry points.

Discovery reads manifests and entry-point metadata but imports nothing. Each plugin has one key;
when two sources offer the same key, an entry point wins over a directory and a later search root
over an earlier one, and the shadowed copy is reported.
"""

from __future__ import annotations

import dataclasses
import importlib.metadata
import logging
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Literal

from ._errors import ManifestError
from ._manifest import Manifest, find_manifest, load_manifest

__all__ = ["Candidate", "Discovery", "Shadowing", "discover"]

_log = logging.getLogger("reference_runtime")

Route = Literal["directory", "entry_point"]


@dataclasses.dataclass(frozen=True)
class Candidate:
    """A plugin that discovery found, not yet imported.

    :param key: the name it is enabled by.
    :param route: ``"directory"`` or ``"entry_point"``.
    :param origin: where it came from, for humans: a directory, or ``group: name = target``.
    :param manifest: its manifest (synthesised from distribution metadata for entry points).
    :param path: the plugin directory (directory route).
    :param entry_point: the entry point (entry-point route).
    :param error: why it cannot load (a broken manifest, a missing ``__init__.py``), or ``None``.
    """

    key: str
    route: Route
    origin: str
    manifest: Manifest | None = None
    path: Path | None = None
    entry_point: importlib.metadata.EntryPoint | None = None
    error: str | None = None


@dataclasses.dataclass(frozen=True)
class Shadowing:
    """One copy of a plugin hidden by another with the same key."""

    key: str
    winner: str
    shadowed: str

    def describe(self) -> str:
        return f"plugin {self.key!r}: {self.winner} shadows {self.shadowed}"


@dataclasses.dataclass(frozen=True)
class Discovery:
    """What discovery found: one candidate per key, and what was shadowed."""

    candidates: dict[str, Candidate]
    shadowed: tuple[Shadowing, ...] = ()


def _directory_candidate(directory: Path) -> Candidate | None:
    manifest_path = find_manifest(directory)
    if manifest_path is None:
        return None
    key = directory.name
    origin = str(directory)
    if not (directory / "__init__.py").is_file():
        error = (
            f"plugin {key!r} ({directory}): no __init__.py beside {manifest_path.name}; "
            "a directory plugin must be an importable package defining register(ctx)"
        )
        return Candidate(key, "directory", origin, path=directory, error=error)
    try:
        manifest = load_manifest(manifest_path)
    except ManifestError as exc:
        error = f"plugin {key!r}: invalid manifest: {exc}"
        return Candidate(key, "directory", origin, path=directory, error=error)
    if manifest.name != key:
        error = (
            f"plugin {key!r} ({manifest_path}): manifest name {manifest.name!r} does not match "
            f"its directory {key!r}; rename one so they agree (the directory name is the key "
            "plugins.enabled uses)"
        )
        return Candidate(key, "directory", origin, manifest, path=directory, error=error)
    return Candidate(key, "directory", origin, manifest, path=directory)


def _scan_root(root: Path) -> Iterable[Candidate]:
    try:
        children = sorted(root.iterdir())
    except OSError as exc:
        _log.warning("plugin search root %s cannot be read (%s); skipping it", root, exc)
        return
    for child in children:
        if child.name.startswith(("_", ".")) or not child.is_dir():
            continue
        candidate = _directory_candidate(child)
        if candidate is not None:
            yield candidate


def _entry_point_candidate(group: str, ep: importlib.metadata.EntryPoint) -> Candidate:
    dist = ep.dist
    version = dist.version if dist is not None else ""
    summary = (dist.metadata["Summary"] or "") if dist is not None else ""
    manifest = Manifest(name=ep.name, version=version, description=summary)
    origin = f"entry point {group}: {ep.name} = {ep.value}"
    return Candidate(ep.name, "entry_point", origin, manifest, entry_point=ep)


def discover(roots: Sequence[Path], groups: Sequence[str] = ()) -> Discovery:
    """Find the plugins under ``roots`` and in the entry-point ``groups``.

    Sources are scanned in order (roots, then groups); a later source replaces an earlier one
    with the same key and the replacement is recorded in :attr:`Discovery.shadowed`.
    """
    found: dict[str, Candidate] = {}
    shadowed: list[Shadowing] = []

    def add(candidate: Candidate) -> None:
        previous = found.get(candidate.key)
        if previous is not None and previous.origin != candidate.origin:
            shadow = Shadowing(candidate.key, candidate.origin, previous.origin)
            _log.info("%s", shadow.describe())
            shadowed.append(shadow)
        found[candidate.key] = candidate

    for root in roots:
        for candidate in _scan_root(root):
            add(candidate)
    for group in groups:
        seen: set[str] = set()
        for ep in importlib.metadata.entry_points(group=group):
            # The same distribution can appear twice on sys.path (a development install next to
            # a regular one); one entry point per name and group is enough.
            if ep.name not in seen:
                seen.add(ep.name)
                add(_entry_point_candidate(group, ep))
    return Discovery(found, tuple(shadowed))
