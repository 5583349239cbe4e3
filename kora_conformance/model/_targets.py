"""What the user asked to certify: ``--kora-plugin`` values, or the current directory.

A target is resolved without importing the plugin, so nothing it does at import time happens
outside a check's sandbox.

The variables a plugin declares in its manifest's ``requires_env`` are what an operator gives it
(API keys, tokens); a certification has none. Inside each sandbox the kit sets every declared
variable that is not already set to :data:`PLACEHOLDER`, so a plugin that reads its secret at
import time still loads, and is judged on what it does rather than on what the operator lacks.
"""

from __future__ import annotations

import dataclasses
import importlib.metadata
import os
import sys
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any, Final, Literal

import yaml

from kora_conformance._contract import ENTRY_POINT_GROUPS
from kora_conformance._distribution import write_distribution
from kora_conformance._errors import TargetError
from reference_runtime import (
    RuntimeConfig,
    find_manifest,
    load_manifest,
)

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - exercised on 3.10 only
    import tomli as tomllib  # type: ignore[import-not-found,unused-ignore]

__all__ = ["PLACEHOLDER", "Target", "resolve_targets"]

#: The value a declared ``requires_env`` variable holds during certification when unset.
PLACEHOLDER: Final = "kora-conformance-placeholder"

Route = Literal["directory", "entry_point", "runtime"]


@dataclasses.dataclass(frozen=True)
class Target:
    """A plugin to certify.

    :param name: the key it is enabled by.
    :param version: its version, from the manifest or distribution metadata.
    :param route: ``directory`` or ``entry_point``.
    :param location: where it was found, for humans.
    :param plugin_dir: the plugin directory (directory route).
    :param project_dir: an uninstalled project declaring the entry point; the kit installs it
        into each check's sandbox as a temporary distribution.
    :param entry_point: ``(group, value)`` declared by ``project_dir``.
    :param adapter: for a runtime target, the ``module:factory`` of its adapter.
    :param requires_env: the variables its manifest declares in ``requires_env``.
    :param package_manifest: an entry-point plugin's own ``plugin.yaml``, shipped in its
        package (or an enclosing one), found without importing it.
    """

    name: str
    version: str
    route: Route
    location: str
    plugin_dir: Path | None = None
    project_dir: Path | None = None
    entry_point: tuple[str, str] | None = None
    adapter: str | None = None
    requires_env: tuple[str, ...] = ()
    package_manifest: Path | None = None

    @property
    def manifest_path(self) -> Path | None:
        """The manifest the checks judge: a directory plugin's ``plugin.yaml``, or the one an
        entry-point plugin ships in its package; ``None`` when it has none."""
        if self.plugin_dir is not None:
            return find_manifest(self.plugin_dir)
        return self.package_manifest

    @property
    def label(self) -> str:
        """``name version``, as verdict lines show it."""
        return f"{self.name} {self.version}".strip()

    def config(
        self, enabled: Sequence[str] | None = None, extra_dirs: Sequence[Path] = (), **fields: Any
    ) -> RuntimeConfig:
        """A runtime configuration that can discover this target (and ``extra_dirs``).

        A directory target is found only through its directory, so an installed copy of the same
        plugin cannot stand in for the one being certified.
        """
        if self.route == "directory":
            assert self.plugin_dir is not None
            dirs = (*extra_dirs, self.plugin_dir.parent)
            groups: tuple[str, ...] = ()
        else:
            dirs, groups = tuple(extra_dirs), ENTRY_POINT_GROUPS
        return RuntimeConfig(
            enabled=tuple(enabled) if enabled is not None else (self.name,),
            plugin_dirs=dirs,
            entry_point_groups=groups,
            **fields,
        )

    @contextmanager
    def installed(self, scratch: Path) -> Iterator[None]:
        """Ready the target inside a sandbox, which undoes all of it afterwards.

        Sets each unset ``requires_env`` variable to :data:`PLACEHOLDER`. For an uninstalled
        project, writes a minimal distribution (``.dist-info``) under ``scratch`` and puts it
        and the project's package root on ``sys.path``, so its entry point is discoverable.
        """
        for name in self.requires_env:
            os.environ.setdefault(name, PLACEHOLDER)
        if self.project_dir is None or self.entry_point is None:
            yield
            return
        group, value = self.entry_point
        src = self.project_dir / "src"
        write_distribution(
            scratch,
            f"{self.name}-kora-target",
            self.version or "0",
            {group: {self.name: value}},
            path=(src if src.is_dir() else self.project_dir,),
        )
        yield


def _declared_env(manifest_path: Path | None) -> tuple[str, ...]:
    """The ``requires_env`` names of a manifest: strings, or mappings with a ``name``.

    Read leniently: a manifest that cannot be read declares nothing here (KC-PL-002 judges it).
    """
    if manifest_path is None:
        return ()
    try:
        data = yaml.safe_load(manifest_path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, yaml.YAMLError):
        return ()
    entries = data.get("requires_env") if isinstance(data, dict) else None
    if not isinstance(entries, list):
        return ()
    names = [e.get("name") if isinstance(e, dict) else e for e in entries]
    return tuple(dict.fromkeys(n for n in names if isinstance(n, str) and n))


def _manifest_beside(value: str, locate: Callable[[str], Path]) -> Path | None:
    """The manifest shipped with an entry point's module, found without importing it.

    Looks in the module's package directory, then in each enclosing package up to the top one.
    :param value: the entry point's value (``package.module:attr``).
    :param locate: a module path (``package/module``) → where that directory would be.
    """
    parts = value.partition(":")[0].strip().split(".")
    while parts:
        directory = locate("/".join(parts))
        manifest = find_manifest(directory) if directory.is_dir() else None
        if manifest is not None:
            return manifest
        parts.pop()
    return None


def _entry_point_manifest(ep: importlib.metadata.EntryPoint) -> Path | None:
    dist = ep.dist
    if dist is None:
        return None
    return _manifest_beside(ep.value, lambda module: Path(str(dist.locate_file(module))))


def _project_manifest(project: Path, value: str) -> Path | None:
    root = project / "src" if (project / "src").is_dir() else project
    return _manifest_beside(value, lambda module: root / module)


def _manifest_facts(manifest_path: Path, directory: Path) -> tuple[str, str]:
    """The name and version a directory target is certified as.

    The name is the manifest's ``name`` (the key the runtime enables it by), so a checkout
    ``quill-agent/`` holding ``name: quill`` certifies as ``quill``. A manifest that cannot be
    read falls back to the directory name, as the runtime's discovery does.
    """
    try:
        manifest = load_manifest(manifest_path)
    except ValueError:
        # KC-PL-002 reports the broken manifest; the target is still certified.
        return directory.name, ""
    return manifest.name, manifest.version


def _pyproject_targets(project: Path) -> list[Target]:
    try:
        data = tomllib.loads((project / "pyproject.toml").read_text(encoding="utf-8"))
    except (OSError, tomllib.TOMLDecodeError) as exc:
        msg = f"{project / 'pyproject.toml'} cannot be read as TOML ({exc})"
        raise TargetError(msg) from exc
    source = project / "pyproject.toml"
    meta = data.get("project", {})
    if not isinstance(meta, dict):
        msg = f"{source}: [project] must be a table"
        raise TargetError(msg)
    version = str(meta.get("version", ""))
    entry_points = meta.get("entry-points", {})
    if not isinstance(entry_points, dict):
        msg = (
            f"{source}: project.entry-points must be a table of groups, e.g. "
            '[project.entry-points."hermes_agent.plugins"] with name = "package:register"'
        )
        raise TargetError(msg)
    targets = []
    for group in ENTRY_POINT_GROUPS:
        declared = entry_points.get(group) or {}
        if not isinstance(declared, dict) or not all(isinstance(v, str) for v in declared.values()):
            msg = f'{source}: project.entry-points."{group}" must map names to "module[:attr]"'
            raise TargetError(msg)
        for name, value in declared.items():
            installed = _installed_entry_point(name)
            if installed is not None:
                targets.append(installed)
            else:
                targets.append(
                    Target(
                        name=name,
                        version=version,
                        route="entry_point",
                        location=f"{project} ({group}: {name} = {value}, not installed)",
                        project_dir=project,
                        entry_point=(group, value),
                        requires_env=_declared_env(_project_manifest(project, value)),
                        package_manifest=_project_manifest(project, value),
                    )
                )
    return targets


def _installed_entry_point(name: str) -> Target | None:
    for group in ENTRY_POINT_GROUPS:
        for ep in importlib.metadata.entry_points(group=group, name=name):
            version = ep.dist.version if ep.dist is not None else ""
            where = f"{group}: {ep.name} = {ep.value}"
            dist = f" from {ep.dist.name} {version}" if ep.dist is not None else ""
            manifest = _entry_point_manifest(ep)
            return Target(
                name,
                version,
                "entry_point",
                f"installed entry point {where}{dist}",
                requires_env=_declared_env(manifest),
                package_manifest=manifest,
            )
    return None


def _from_path(path: Path) -> list[Target]:
    manifest = find_manifest(path)
    if manifest is not None:
        name, version = _manifest_facts(manifest, path)
        return [
            Target(
                name=name,
                version=version,
                route="directory",
                location=str(path),
                plugin_dir=path,
                requires_env=_declared_env(manifest),
            )
        ]
    if (path / "pyproject.toml").is_file():
        targets = _pyproject_targets(path)
        if targets:
            return targets
    groups = " or ".join(ENTRY_POINT_GROUPS)
    msg = (
        f"{path} is not a plugin: it has no plugin.yaml and no pyproject.toml declaring an entry "
        f"point in {groups}; pass a plugin directory, a project directory, or an installed "
        "plugin's entry-point name to --kora-plugin"
    )
    raise TargetError(msg)


def _resolve_one(value: str, cwd: Path) -> list[Target]:
    path = (cwd / value).resolve()
    if path.is_dir():
        return _from_path(path)
    installed = _installed_entry_point(value)
    if installed is not None:
        return [installed]
    names = sorted(
        {ep.name for g in ENTRY_POINT_GROUPS for ep in importlib.metadata.entry_points(group=g)}
    )
    known = ", ".join(names) if names else "none"
    msg = (
        f"--kora-plugin {value!r} is neither a directory nor the entry-point name of an installed "
        f"plugin (installed plugin entry points: {known})"
    )
    raise TargetError(msg)


def resolve_targets(values: Sequence[str], cwd: Path) -> tuple[list[Target], str]:
    """Resolve ``--kora-plugin`` values, or look at ``cwd`` when there are none.

    :returns: the targets, and one line saying how they were found.
    :raises TargetError: a value names no plugin, or ``cwd`` holds none; the message says what
        to pass instead.
    """
    if values:
        targets = [t for value in values for t in _resolve_one(value, cwd)]
        how = "from --kora-plugin"
    else:
        try:
            targets = _from_path(cwd)
        except TargetError:
            msg = (
                f"no plugin found in the current directory {cwd} (no plugin.yaml, no "
                "pyproject.toml entry point in hermes_agent.plugins or kora.plugins); pass "
                "--kora-plugin DIR|NAME"
            )
            raise TargetError(msg) from None
        how = f"found in {cwd}"
    seen: dict[str, Target] = {}
    for target in targets:
        seen.setdefault(target.name, target)
    return list(seen.values()), how
