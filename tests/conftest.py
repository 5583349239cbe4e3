"""Shared fixtures for the reference runtime's tests.

Plugins are real files imported by the real loader, so every test that loads one must leave
``sys.modules`` and ``sys.path`` as it found them: :func:`isolated_imports` does that for the
module names plugins and the compatibility aliases use (``hermes_plugins.*``, ``marvin``,
``agent*``) and for the ``kct_*`` modules the tests write themselves.
"""

from __future__ import annotations

import contextlib
import importlib
import os
import sys
import textwrap
from collections.abc import Callable, Iterator, Mapping
from pathlib import Path
from typing import Any

import pytest
import yaml

REPO_ROOT = Path(__file__).resolve().parents[1]
BUNDLED_PLUGINS = REPO_ROOT / "plugins"

#: Top-level module names whose entries a test may add or replace (the name and its submodules).
_ISOLATED_PACKAGES = ("hermes_plugins", "marvin", "agent")
#: Prefix of every module the tests write themselves (fake plugins, fake distributions).
TEST_MODULE_PREFIX = "kct_"


def _isolated(name: str) -> bool:
    top = name.partition(".")[0]
    return top in _ISOLATED_PACKAGES or top.startswith(TEST_MODULE_PREFIX)


@contextlib.contextmanager
def _preserving_imports() -> Iterator[None]:
    saved_path = list(sys.path)
    saved_modules = {name: mod for name, mod in sys.modules.items() if _isolated(name)}
    try:
        yield
    finally:
        for name in [n for n in sys.modules if _isolated(n)]:
            if name not in saved_modules:
                del sys.modules[name]
        sys.modules.update(saved_modules)
        sys.path[:] = saved_path
        importlib.invalidate_caches()


@pytest.fixture(scope="session")
def preserving_imports() -> Callable[[], contextlib.AbstractContextManager[None]]:
    """A context manager factory restoring plugin modules and ``sys.path`` on exit.

    Session-scoped so that hypothesis tests (which must not use function-scoped fixtures) can
    isolate each example themselves.
    """
    return _preserving_imports


@pytest.fixture
def isolated_imports() -> Iterator[None]:
    """Restore plugin-related ``sys.modules`` entries and ``sys.path`` after the test."""
    with _preserving_imports():
        yield


@pytest.fixture
def compat_aliases(isolated_imports: None) -> Iterator[None]:
    """The fork's ``agent.*`` import paths, installed for the test and removed after it."""
    from reference_runtime import compat

    with compat.installed() as ok:
        assert ok, "a real 'agent' package is importable; compat aliases were not installed"
        yield


@pytest.fixture
def clean_kora_env(
    monkeypatch: pytest.MonkeyPatch, tmp_path_factory: pytest.TempPathFactory
) -> None:
    """No ``KORA_*`` or ``ANTHROPIC_*`` variables, and a private empty ``$HOME``.

    The empty home keeps the runtime's default fallback (``~/.kora/...``) from finding a file
    that happens to exist on the machine.
    """
    for name in list(os.environ):
        if name.startswith(("KORA_", "ANTHROPIC_")):
            monkeypatch.delenv(name)
    monkeypatch.setenv("HOME", str(tmp_path_factory.mktemp("home")))


def _manifest_text(name: str, manifest: str | Mapping[str, Any] | None) -> str:
    if manifest is None:
        return f"name: {name}\nversion: '0.1'\n"
    if isinstance(manifest, str):
        return textwrap.dedent(manifest)
    return yaml.safe_dump(dict(manifest), sort_keys=False)


def write_plugin(
    root: Path,
    name: str,
    body: str,
    *,
    manifest: str | Mapping[str, Any] | None = None,
    manifest_file: str = "plugin.yaml",
) -> Path:
    """Write the directory plugin ``root/name`` and return its directory.

    :param body: the ``__init__.py`` source (dedented).
    :param manifest: YAML text written as is, a mapping dumped as YAML, or ``None`` for
        ``name: <name>``.
    """
    directory = root / name
    directory.mkdir(parents=True, exist_ok=True)
    (directory / manifest_file).write_text(_manifest_text(name, manifest), encoding="utf-8")
    (directory / "__init__.py").write_text(textwrap.dedent(body), encoding="utf-8")
    return directory


@pytest.fixture(scope="session")
def plugin_writer() -> Callable[..., Path]:
    """:func:`write_plugin` for tests that pick their own root (hypothesis examples)."""
    return write_plugin


@pytest.fixture
def plugins_root(tmp_path: Path) -> Path:
    """A fresh plugin search root."""
    root = tmp_path / "plugins"
    root.mkdir()
    return root


@pytest.fixture
def make_plugin(plugins_root: Path, isolated_imports: None) -> Callable[..., Path]:
    """``make_plugin(name, body, manifest=..., root=...)``: write a directory plugin.

    Defaults to :func:`plugins_root`; the test's imports are isolated.
    """

    def make(
        name: str,
        body: str,
        *,
        manifest: str | Mapping[str, Any] | None = None,
        manifest_file: str = "plugin.yaml",
        root: Path | None = None,
    ) -> Path:
        return write_plugin(
            plugins_root if root is None else root,
            name,
            body,
            manifest=manifest,
            manifest_file=manifest_file,
        )

    return make


@pytest.fixture
def install_fake_dist(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, isolated_imports: None
) -> Callable[..., Path]:
    """``install_fake_dist(dist, entry_points, files=...)``: an "installed" distribution.

    Writes ``<dist>-<version>.dist-info/`` (METADATA, entry_points.txt) and ``files`` (relative
    path → source, dedented) into a fresh directory, puts it first on ``sys.path`` and returns
    it. ``entry_points`` maps a group to ``{name: target}``.
    """
    counter = iter(range(1_000_000))

    def install(
        dist: str,
        entry_points: Mapping[str, Mapping[str, str]],
        files: Mapping[str, str] | None = None,
        *,
        version: str = "0.1",
    ) -> Path:
        site = tmp_path / f"site-{next(counter)}"
        info = site / f"{dist.replace('-', '_')}-{version}.dist-info"
        info.mkdir(parents=True)
        (info / "METADATA").write_text(
            f"Metadata-Version: 2.1\nName: {dist}\nVersion: {version}\n"
            f"Summary: test distribution {dist}\n",
            encoding="utf-8",
        )
        lines: list[str] = []
        for group, targets in entry_points.items():
            lines.append(f"[{group}]")
            lines.extend(f"{name} = {target}" for name, target in targets.items())
            lines.append("")
        (info / "entry_points.txt").write_text("\n".join(lines), encoding="utf-8")
        for relative, source in (files or {}).items():
            target = site / relative
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_text(textwrap.dedent(source), encoding="utf-8")
        monkeypatch.syspath_prepend(str(site))
        importlib.invalidate_caches()
        return site

    return install
