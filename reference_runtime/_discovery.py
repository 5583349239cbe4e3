"""Finding plugins: directories under search roots and installed entry points.

Discovery reads manifests and entry-point metadata but imports nothing. Each plugin has one key:
a directory plugin's is its manifest's ``name`` (the directory name only when the manifest cannot
be read, so the error still has a key), an entry point's is its name. When two sources offer the
same key, an entry point wins over a directory and a later search root over an earlier one, and
the shadowed copy is reported.

As upstream, a plugin may sit one category level down, ``<root>/<category>/<name>/``: it is
keyed ``<category>/<name>`` (categories do not nest). The ``memory`` category is the
memory-provider route: its plugins are keyed by their bare name (what ``memory.provider``
selects), and there the first one seen wins, not the last.

Everything discovery reads is untrusted: an unreadable directory, a broken symlink, a broken
manifest or an installed distribution with broken metadata is recorded (as that candidate's
error, as a :class:`Skipped` entry saying why it was passed over, or as a warning) and never
stops discovery of the others.
"""

from __future__ import annotations

import dataclasses
import errno
import importlib.metadata
import logging
import os
import stat
from collections.abc import Sequence
from pathlib import Path
from typing import Literal

from ._entry_points import dist_label, installed_entry_points
from ._errors import ManifestError, quote
from ._manifest import MANIFEST_FILENAMES, Manifest, load_manifest

__all__ = ["MEMORY_CATEGORY", "Candidate", "Discovery", "Shadowing", "Skipped", "discover"]

#: The category directory of memory providers (upstream's ``plugins/memory/<name>/``).
MEMORY_CATEGORY = "memory"

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
    :param warnings: non-fatal findings about it (unreadable distribution metadata), for the load
        report when it is enabled.
    :param category: the category directory it sits in (``platforms``, ``memory``), if any.
    """

    key: str
    route: Route
    origin: str
    manifest: Manifest | None = None
    path: Path | None = None
    entry_point: importlib.metadata.EntryPoint | None = None
    error: str | None = None
    warnings: tuple[str, ...] = ()
    category: str | None = None


@dataclasses.dataclass(frozen=True)
class Shadowing:
    """One copy of a plugin hidden by another with the same key."""

    key: str
    winner: str
    shadowed: str

    def describe(self) -> str:
        return f"plugin {self.key!r}: {self.winner} shadows {self.shadowed}"


@dataclasses.dataclass(frozen=True)
class Skipped:
    """Something in a search root that discovery passed over, and why.

    :param key: the name it would most likely be enabled by (its directory name).
    :param origin: the path.
    :param reason: why it is not a candidate, and the fix.
    """

    key: str
    origin: str
    reason: str

    def describe(self) -> str:
        return f"{self.origin}: {self.reason}"


@dataclasses.dataclass(frozen=True)
class Discovery:
    """What discovery found.

    :param candidates: one candidate per key.
    :param shadowed: same-key copies hidden by another source.
    :param skipped: what was passed over and why, keyed by the name it would be enabled by
        (so "enabled but not found" can say why).
    :param warnings: problems not tied to one candidate (an unreadable search root, an
        installed distribution whose plugin entry points cannot be read).
    """

    candidates: dict[str, Candidate]
    shadowed: tuple[Shadowing, ...] = ()
    skipped: dict[str, tuple[Skipped, ...]] = dataclasses.field(default_factory=dict)
    warnings: tuple[str, ...] = ()


class _Found:
    """Discovery's accumulator."""

    def __init__(self) -> None:
        self.candidates: dict[str, Candidate] = {}
        self.shadowed: list[Shadowing] = []
        self.skipped: dict[str, list[Skipped]] = {}
        self.warnings: list[str] = []

    def add(self, candidate: Candidate) -> None:
        previous = self.candidates.get(candidate.key)
        memory = (MEMORY_CATEGORY, MEMORY_CATEGORY)
        if previous is not None and (previous.category, candidate.category) == memory:
            # Memory providers: the first one seen wins (upstream calls changing it breaking).
            if previous.origin != candidate.origin:
                shadow = Shadowing(candidate.key, previous.origin, candidate.origin)
                _log.info("%s", shadow.describe())
                self.shadowed.append(shadow)
            return
        if previous is not None and previous.origin != candidate.origin:
            shadow = Shadowing(candidate.key, candidate.origin, previous.origin)
            _log.info("%s", shadow.describe())
            self.shadowed.append(shadow)
        self.candidates[candidate.key] = candidate

    def skip(self, key: str, origin: object, reason: str) -> None:
        self.skipped.setdefault(key, []).append(Skipped(key, str(origin), reason))

    def warn(self, message: str) -> None:
        _log.warning("%s", message)
        self.warnings.append(message)

    def result(self) -> Discovery:
        skipped = {key: tuple(items) for key, items in self.skipped.items()}
        return Discovery(self.candidates, tuple(self.shadowed), skipped, tuple(self.warnings))


def _link_problem(path: Path) -> str | None:
    """Why the symlink ``path`` leads nowhere (``"a symlink loop"``...), or ``None``."""
    try:
        os.stat(path)
    except OSError as exc:
        if exc.errno == errno.ELOOP:
            return "a symlink loop"
        try:
            target = os.readlink(path)
        except OSError:
            target = "?"
        return f"a dangling symlink (to {target})"
    return None


def _manifest_file(directory: Path, notes: list[str]) -> Path | None:
    """The directory's manifest file; what is wrong with the ones that are not files goes to
    ``notes``.

    :raises OSError: the directory cannot be read.
    """
    for filename in MANIFEST_FILENAMES:
        candidate = directory / filename
        try:
            mode = candidate.stat().st_mode
        except FileNotFoundError:
            if os.path.islink(candidate):
                notes.append(f"{filename} is {_link_problem(candidate)}")
            continue
        except OSError as exc:
            if exc.errno != errno.ELOOP:
                raise
            notes.append(f"{filename} is a symlink loop")
            continue
        if stat.S_ISREG(mode):
            return candidate
        kind = "a directory" if stat.S_ISDIR(mode) else "not a regular file"
        notes.append(f"{filename} is {kind}")
    return None


def _key(name: str, category: str | None) -> str:
    """The key of plugin ``name`` in ``category``: ``category/name``; a memory provider's is
    its bare name."""
    return name if category in (None, MEMORY_CATEGORY) else f"{category}/{name}"


def _directory_candidate(
    directory: Path, found: _Found, category: str | None = None, *, notes: list[str] | None = None
) -> Candidate | None:
    notes = [] if notes is None else notes
    manifest_path = _manifest_file(directory, notes)
    if manifest_path is None:
        detail = "; ".join(notes) if notes else "no plugin.yaml or plugin.yml"
        if category is not None:
            detail += f" (inside the category {category!r}; categories do not nest)"
        found.skip(directory.name, directory, f"not a plugin directory: {detail}")
        return None
    origin = str(directory)
    try:
        manifest = load_manifest(manifest_path)
    except ManifestError as exc:
        # The manifest cannot name it; the error still needs a key.
        key = _key(directory.name, category)
        error = f"plugin {key!r}: invalid manifest: {exc}"
        return Candidate(key, "directory", origin, path=directory, error=error, category=category)
    key = _key(manifest.name, category)
    if manifest.name != directory.name:
        found.skip(
            directory.name,
            directory,
            f"its manifest names it {key!r}: plugins are keyed by their manifest name, so "
            f"enable it as {key}",
        )
    if key != manifest.name:
        # The plugin is known by its key (ctx.name, plugin_id, what its registrations carry).
        manifest = dataclasses.replace(manifest, name=key)
    if not (directory / "__init__.py").is_file():
        error = (
            f"plugin {key!r} ({directory}): no __init__.py beside {manifest_path.name}; "
            "a directory plugin must be an importable package defining register(ctx)"
        )
        return Candidate(
            key, "directory", origin, manifest, path=directory, error=error, category=category
        )
    return Candidate(key, "directory", origin, manifest, path=directory, category=category)


def _plugin_dirs(directory: Path) -> list[Path]:
    """The subdirectories of ``directory`` that hold a manifest file (it is then a category)."""
    try:
        children = sorted(directory.iterdir())
    except OSError:
        return []
    return [
        child
        for child in children
        if not child.name.startswith(("_", "."))
        and child.is_dir()
        and any((child / name).is_file() for name in MANIFEST_FILENAMES)
    ]


def _scan_directory(child: Path, found: _Found) -> None:
    """One directory of a search root: a plugin, or a category of plugins (one level)."""
    notes: list[str] = []
    if _manifest_file(child, notes) is None and not notes:
        plugins = _plugin_dirs(child)
        if plugins:
            for directory in plugins:
                candidate = _directory_candidate(directory, found, child.name)
                if candidate is not None:
                    found.add(candidate)
            for other in sorted(set(child.iterdir()) - set(plugins)):
                if other.is_dir() and not other.name.startswith(("_", ".")):
                    _directory_candidate(other, found, child.name)
            return
    candidate = _directory_candidate(child, found)
    if candidate is not None:
        found.add(candidate)


def _scan_root(root: Path, found: _Found) -> None:
    try:
        children = sorted(root.iterdir())
    except OSError as exc:
        _log.warning("plugin search root %s cannot be read (%s); skipping it", root, exc)
        return
    for child in children:
        if child.name.startswith(("_", ".")):
            found.skip(
                child.name,
                child,
                "names starting with '.' or '_' are not scanned (hidden or private); rename "
                "the directory",
            )
            continue
        try:
            if not child.is_dir():
                problem = _link_problem(child) if child.is_symlink() else None
                if problem is not None:
                    found.skip(child.name, child, f"{problem}; fix or remove the link")
                continue
            _scan_directory(child, found)
        except Exception as exc:  # noqa: BLE001 - one unreadable directory must not stop the rest
            found.skip(child.name, child, f"cannot be read ({type(exc).__name__}: {exc})")
            continue


def _entry_point_candidate(
    ep: importlib.metadata.EntryPoint, dist: importlib.metadata.Distribution
) -> Candidate:
    warnings: tuple[str, ...] = ()
    try:
        version = dist.version or ""
        summary = dist.metadata["Summary"] or ""
    except Exception as exc:  # noqa: BLE001 - unreadable METADATA costs the version, not the plugin
        version = summary = ""
        warnings = (
            f"plugin {ep.name!r}: the METADATA of {dist_label(dist)} cannot be read "
            f"({type(exc).__name__}: {exc}); it loads with no version",
        )
    manifest = Manifest(name=ep.name, version=str(version), description=str(summary))
    origin = f"entry point {ep.group}: {ep.name} = {ep.value}"
    try:
        ep.module  # noqa: B018 - parses the value; a malformed one raises
    except Exception:  # noqa: BLE001 - e.g. AttributeError for an empty value
        error = (
            f"plugin {ep.name!r} ({origin}, from {dist_label(dist)}): the entry point's value "
            f"{quote(ep.value)} is not 'module' or 'module:attr'; correct entry_points.txt"
        )
        return Candidate(ep.name, "entry_point", origin, manifest, entry_point=ep, error=error)
    return Candidate(ep.name, "entry_point", origin, manifest, entry_point=ep, warnings=warnings)


def discover(roots: Sequence[Path], groups: Sequence[str] = ()) -> Discovery:
    """Find the plugins under ``roots`` and in the entry-point ``groups``.

    Sources are scanned in order (roots, then groups); a later source replaces an earlier one
    with the same key and the replacement is recorded in :attr:`Discovery.shadowed`. Nothing
    found raises: what cannot be read is recorded instead (see :class:`Discovery`).
    """
    found = _Found()
    for root in roots:
        _scan_root(root, found)
    names: set[tuple[str, str]] = set()
    for ep, dist in installed_entry_points(groups, found.warn):
        # The same entry point can be declared twice (two copies of a distribution under
        # different names); one per name and group is enough.
        if (ep.group, ep.name) not in names:
            names.add((ep.group, ep.name))
            found.add(_entry_point_candidate(ep, dist))
    return found.result()
