"""Declared ``requires_env`` variables hold placeholders while the kit certifies a plugin.

An operator gives a plugin its secrets; a certification has none, and must not fail a plugin
that reads the variable it declared at import time.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path

import pytest

from kora_conformance._sandbox import sandbox
from kora_conformance._targets import PLACEHOLDER, resolve_targets

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
