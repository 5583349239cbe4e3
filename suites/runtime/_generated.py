"""Probe plugins the runtime checks write at check time, in the forms a runtime must load.

A check asks for a set of plugins, each a directory plugin or an entry point of either form
(``module``, whose ``register`` the runtime must call, or ``module:setup_plugin``, the register
callable under another name), writes them into its scratch directory once, and then runs many
sessions over orderings of them, setting each plugin's behaviour between sessions through
:mod:`kora_conformance.probes.generated` (which holds everything the plugins do).

Every module defines both ``register`` and ``setup_plugin``; the one the form names is the
plugin's register function and the other a decoy, so a loader that calls the wrong one is seen.
Entry-point packages are named ``kc_gen_pkg_<n>``, never after their plugin.
"""

from __future__ import annotations

import dataclasses
import importlib
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Final, Literal

from kora_conformance import CheckContext
from kora_conformance.suites.runtime._probing import ENTRY_POINT_GROUP

__all__ = [
    "FORMS",
    "Copies",
    "Generated",
    "Installed",
    "install",
    "install_copies",
    "write_plugin_module",
]

Form = Literal["directory", "module", "callable"]
FORMS: Final[tuple[Form, ...]] = ("directory", "module", "callable")

_PLUGIN: Final = '''"""A probe plugin the kora-conformance kit generated for one runtime check."""

from kora_conformance.probes.generated import plugin_functions as _functions

_FUNCTIONS = _functions({name!r}, {real!r}, {copy!r})


def register(ctx):
    _FUNCTIONS["register"](ctx)


def setup_plugin(ctx):
    _FUNCTIONS["setup_plugin"](ctx)
'''

#: A plugin whose import registers a daemon into the process-default registry (as fork-style
#: plugins do), then raises; unless the check set its ``REGISTER`` mode to ``fixed``: then it
#: is the fixed copy, whose import registers the daemon and returns.
_IMPORT_FAILS: Final = '''"""A generated kora-conformance probe plugin whose import fails."""

from agent.background_daemon_registry import BackgroundDaemonEntry, background_daemon_registry

from kora_conformance.probes import generated as _generated
from kora_conformance.probes import journal as _journal


def startup(coordinator=None):
    _journal.record("startup", {daemon!r})


def shutdown():
    _journal.record("shutdown", {daemon!r})


def register(ctx):
    _journal.record("register", {name!r})


_journal.record("import", {name!r})
background_daemon_registry().register(BackgroundDaemonEntry({daemon!r}, startup, shutdown))
if _generated.REGISTER.get({name!r}) != "fixed":
    raise RuntimeError("deliberate failure at import, after registering a daemon")
'''


#: A fork-style plugin: its import registers two daemons into the process-default registry,
#: and its ``register`` registers the first of them again through the context (the same daemon:
#: one entry), so the second is the plugin's only through its import.
_IMPORT_REGISTERS: Final = '''"""A generated kora-conformance probe that registers at import."""

from agent.background_daemon_registry import BackgroundDaemonEntry, background_daemon_registry

from kora_conformance.probes import journal as _journal


def startup(coordinator=None):
    _journal.record("startup", {name!r})


def shutdown():
    _journal.record("shutdown", {name!r})


def register(ctx):
    _journal.record("register", {name!r}, attribute="register")
    ctx.register_background_daemon({both!r}, startup, shutdown)


_journal.record("import", {name!r})
for _daemon in ({both!r}, {daemon!r}):
    background_daemon_registry().register(BackgroundDaemonEntry(_daemon, startup, shutdown))
'''


@dataclasses.dataclass(frozen=True)
class Generated:
    """One generated plugin: its key, its form and, for an entry point, its package."""

    name: str
    form: Form
    package: str = ""
    #: ``True``: its import registers :attr:`import_daemon` into the process defaults, then
    #: raises (directory plugins only).
    import_fails: bool = False
    #: ``True``: its import registers :attr:`both_daemon` and :attr:`import_daemon` into the
    #: process defaults, and its ``register`` registers :attr:`both_daemon` again through the
    #: context (directory plugins only).
    import_registers: bool = False

    @property
    def entry_point(self) -> str:
        """The entry point's value (entry-point forms)."""
        return self.package if self.form == "module" else f"{self.package}:setup_plugin"

    @property
    def import_daemon(self) -> str:
        """The daemon a failing import registers, or a fork-style import registers only there."""
        return f"kc_gen.import.{self.name}"

    @property
    def both_daemon(self) -> str:
        """The daemon a fork-style plugin registers at import and again through the context."""
        return f"kc_gen.both.{self.name}"

    def describe(self) -> str:
        """The plugin and its form, for a failure's text."""
        if self.form == "directory":
            return f"{self.name} (directory)"
        return f"{self.name} (entry point {self.name} = {self.entry_point})"


@dataclasses.dataclass(frozen=True)
class Installed:
    """Generated plugins written and discoverable: the directory root and the groups."""

    plugins: tuple[Generated, ...]
    plugin_dir: Path
    groups: tuple[str, ...]

    def by_name(self, name: str) -> Generated:
        """The generated plugin ``name``."""
        return next(p for p in self.plugins if p.name == name)


def install(
    ctx: CheckContext,
    plugins: Sequence[tuple[str, Form]],
    *,
    import_fails: Sequence[str] = (),
    import_registers: Sequence[str] = (),
    label: str = "gen",
) -> Installed:
    """Write ``plugins`` (name, form) into the scratch directory and make the entry points
    discoverable (a ``.dist-info`` and the packages' root on ``sys.path``; the sandbox restores
    it). The entry points are listed in reverse order of ``plugins``, so neither alphabetical
    nor the order given is the order a runtime reads them in."""
    root = ctx.sandbox.scratch / f"kc_{label}"
    directories, packages = root / "plugins", root / "site"
    directories.mkdir(parents=True, exist_ok=True)
    packages.mkdir(parents=True, exist_ok=True)
    made: list[Generated] = []
    for index, (name, form) in enumerate(plugins):
        fails = name in import_fails
        if form == "directory":
            plugin = Generated(
                name, form, import_fails=fails, import_registers=name in import_registers
            )
            folder = directories / name
            folder.mkdir(exist_ok=True)
            (folder / "plugin.yaml").write_text(
                f"name: {name}\nversion: 0.1.0\ndescription: a generated kora-conformance probe\n"
                "hooks:\n  - pre_agent_identity_set\n  - on_session_start\n",
                encoding="utf-8",
            )
            if fails:
                text = _IMPORT_FAILS.format(name=name, daemon=plugin.import_daemon)
            elif plugin.import_registers:
                text = _IMPORT_REGISTERS.format(
                    name=name, daemon=plugin.import_daemon, both=plugin.both_daemon
                )
            else:
                text = _PLUGIN.format(name=name, real="register", copy="")
            (folder / "__init__.py").write_text(text, encoding="utf-8")
        else:
            plugin = Generated(name, form, package=f"kc_{label}_pkg_{index}")
            folder = packages / plugin.package
            folder.mkdir(exist_ok=True)
            real = "register" if form == "module" else "setup_plugin"
            (folder / "__init__.py").write_text(
                _PLUGIN.format(name=name, real=real, copy=""), encoding="utf-8"
            )
        made.append(plugin)
    entry_points = [p for p in reversed(made) if p.form != "directory"]
    groups: tuple[str, ...] = ()
    if entry_points:
        dist = packages / f"kc_{label}_probes-1.0.dist-info"
        dist.mkdir(exist_ok=True)
        (dist / "METADATA").write_text(
            f"Metadata-Version: 2.1\nName: kc-{label}-probes\nVersion: 1.0\n"
            "Summary: probe plugins the kora-conformance kit generated\n",
            encoding="utf-8",
        )
        lines = [f"[{ENTRY_POINT_GROUP}]", *(f"{p.name} = {p.entry_point}" for p in entry_points)]
        (dist / "entry_points.txt").write_text("\n".join(lines) + "\n", encoding="utf-8")
        sys.path.insert(0, str(packages))
        importlib.invalidate_caches()
        groups = (ENTRY_POINT_GROUP,)
    return Installed(tuple(made), directories, groups)


@dataclasses.dataclass(frozen=True)
class Copies:
    """Three copies of one plugin key: a directory in each of two search roots, and an entry
    point (module form); each journals its copy tag (``root_a``, ``root_b``, ``entry_point``)
    with ``register``."""

    name: str
    root_a: Path
    root_b: Path
    groups: tuple[str, ...]


def install_copies(ctx: CheckContext, name: str, *, label: str = "copies") -> Copies:
    """Write the copies of ``name`` (see :class:`Copies`) and make the entry point
    discoverable (the sandbox restores ``sys.path``)."""
    root = ctx.sandbox.scratch / f"kc_{label}"
    roots = {tag: root / tag for tag in ("root_a", "root_b")}
    for tag, folder in roots.items():
        plugin = folder / f"{name}_{tag}"  # the manifest's name is the key, not the folder's
        plugin.mkdir(parents=True, exist_ok=True)
        (plugin / "plugin.yaml").write_text(
            f"name: {name}\nversion: 0.1.0\ndescription: a generated kora-conformance probe\n",
            encoding="utf-8",
        )
        (plugin / "__init__.py").write_text(
            _PLUGIN.format(name=name, real="register", copy=tag), encoding="utf-8"
        )
    site, package = root / "site", f"kc_{label}_pkg"
    (site / package).mkdir(parents=True, exist_ok=True)
    (site / package / "__init__.py").write_text(
        _PLUGIN.format(name=name, real="register", copy="entry_point"), encoding="utf-8"
    )
    dist = site / f"kc_{label}_probes-1.0.dist-info"
    dist.mkdir(exist_ok=True)
    (dist / "METADATA").write_text(
        f"Metadata-Version: 2.1\nName: kc-{label}-probes\nVersion: 1.0\n", encoding="utf-8"
    )
    (dist / "entry_points.txt").write_text(
        f"[{ENTRY_POINT_GROUP}]\n{name} = {package}\n", encoding="utf-8"
    )
    sys.path.insert(0, str(site))
    importlib.invalidate_caches()
    return Copies(name, roots["root_a"], roots["root_b"], (ENTRY_POINT_GROUP,))


def write_plugin_module(init: Path, name: str) -> None:
    """Write ``init`` (an ``__init__.py``) as the generated plugin ``name`` whose register
    function is ``register``."""
    init.parent.mkdir(parents=True, exist_ok=True)
    init.write_text(_PLUGIN.format(name=name, real="register", copy=""), encoding="utf-8")
