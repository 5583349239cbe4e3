"""What a check's sandbox gives a plugin: placeholders for its declared ``requires_env``
variables, and imports it can repeat.

An operator gives a plugin its secrets; a certification has none, and must not fail a plugin
that reads the variable it declared at import time.
"""

from __future__ import annotations

import contextlib
import importlib.machinery
import os
import sys
import threading
import types
from collections.abc import Callable
from pathlib import Path

import pytest

from kora_conformance.isolation._sandbox import sandbox
from kora_conformance.model._targets import PLACEHOLDER, resolve_targets

pytestmark = pytest.mark.usefixtures("clean_kora_env", "isolated_imports")

MANIFEST = """\
name: kct_secretive
version: '1.0'
requires_env:
  - KCT_API_KEY
  - name: KCT_REGION
    description: where the service lives
    secret: false
"""


def test_a_directory_plugin_declares_its_variables(
    make_plugin: Callable[..., Path], plugins_root: Path
) -> None:
    make_plugin("kct_secretive", "def register(ctx):\n    pass\n", manifest=MANIFEST)

    (target,), _ = resolve_targets(["kct_secretive"], plugins_root)

    assert target.requires_env == ("KCT_API_KEY", "KCT_REGION")


def test_placeholders_are_set_inside_the_sandbox_only(
    make_plugin: Callable[..., Path], plugins_root: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("KCT_API_KEY", raising=False)
    monkeypatch.setenv("KCT_REGION", "operator-given")
    make_plugin("kct_secretive", "def register(ctx):\n    pass\n", manifest=MANIFEST)
    (target,), _ = resolve_targets(["kct_secretive"], plugins_root)

    with sandbox() as box, target.installed(box.scratch):
        assert os.environ["KCT_API_KEY"] == PLACEHOLDER
        assert os.environ["KCT_REGION"] == "operator-given"  # a value already given is kept

    assert "KCT_API_KEY" not in os.environ


def test_an_installed_entry_point_plugin_declares_them_in_its_package_manifest(
    install_fake_dist: Callable[..., Path],
) -> None:
    install_fake_dist(
        "kct-secretive-dist",
        {"hermes_agent.plugins": {"kct_secretive_ep": "kct_secretive_pkg.plugin"}},
        {
            "kct_secretive_pkg/__init__.py": "",
            "kct_secretive_pkg/plugin/__init__.py": "def register(ctx):\n    pass\n",
            "kct_secretive_pkg/plugin/plugin.yaml": MANIFEST.replace(
                "kct_secretive", "kct_secretive_ep"
            ),
        },
    )

    (target,), _ = resolve_targets(["kct_secretive_ep"], Path.cwd())

    assert target.requires_env == ("KCT_API_KEY", "KCT_REGION")


def test_a_manifest_at_the_top_package_counts_for_a_module_entry_point(
    install_fake_dist: Callable[..., Path],
) -> None:
    install_fake_dist(
        "kct-secretive-top",
        {"hermes_agent.plugins": {"kct_top_ep": "kct_top_pkg.hooks:register"}},
        {
            "kct_top_pkg/__init__.py": "",
            "kct_top_pkg/hooks.py": "def register(ctx):\n    pass\n",
            "kct_top_pkg/plugin.yaml": "name: kct_top_ep\nrequires_env: [KCT_TOKEN]\n",
        },
    )

    (target,), _ = resolve_targets(["kct_top_ep"], Path.cwd())

    assert target.requires_env == ("KCT_TOKEN",)


def test_an_unreadable_manifest_declares_nothing(
    make_plugin: Callable[..., Path], plugins_root: Path
) -> None:
    make_plugin("kct_broken", "def register(ctx):\n    pass\n", manifest="name: [unclosed\n")

    (target,), _ = resolve_targets(["kct_broken"], plugins_root)

    assert target.requires_env == ()  # KC-PL-002 reports the manifest itself


def _fake_module(name: str, filename: str) -> types.ModuleType:
    module = types.ModuleType(name)
    module.__file__ = filename
    return module


def test_a_package_with_an_extension_module_stays_imported_after_the_sandbox() -> None:
    # An extension module cannot be initialised twice in one process (numpy refuses with
    # "cannot load module more than once per process"), so the package that brought one in
    # stays imported for the next check instead of being imported afresh.
    suffix = importlib.machinery.EXTENSION_SUFFIXES[0]
    with sandbox():
        sys.modules["kct_ext"] = _fake_module("kct_ext", "/site/kct_ext/__init__.py")
        sys.modules["kct_ext._core"] = _fake_module("kct_ext._core", f"/site/kct_ext/_core{suffix}")
        sys.modules["kct_ext.api"] = _fake_module("kct_ext.api", "/site/kct_ext/api.py")
        sys.modules["kct_pure"] = _fake_module("kct_pure", "/site/kct_pure.py")

    assert {"kct_ext", "kct_ext._core", "kct_ext.api"} <= set(sys.modules)
    assert "kct_pure" not in sys.modules


def test_a_thread_the_plugin_left_writing_into_the_sandbox_does_not_break_its_cleanup() -> None:
    # A plugin's worker thread (a log writer, a cache) may still be creating files in the
    # sandbox's home while the sandbox is removed: what it leaves behind is not the check's
    # outcome, and the check must not end in a kit error over it.
    stop, busy = threading.Event(), threading.Event()

    def keep_writing(where: Path) -> None:
        n = 0
        while not stop.is_set():
            n += 1
            with contextlib.suppress(OSError):
                where.mkdir(parents=True, exist_ok=True)
                (where / f"entry-{n}.log").write_text("x", encoding="utf-8")
            if n == 500:
                busy.set()

    writer: threading.Thread | None = None
    try:
        with sandbox() as box:
            writer = threading.Thread(
                target=keep_writing, args=(box.scratch / "home" / ".hermes" / "logs",)
            )
            writer.start()
            busy.wait()
    finally:
        stop.set()
        if writer is not None:
            writer.join()
