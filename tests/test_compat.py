"""Contract 2.4: the fork's import paths as aliases of the runtime's own classes."""

from __future__ import annotations

import importlib
import logging
import sys
from collections.abc import Callable
from pathlib import Path

import pytest

import reference_runtime
from reference_runtime import Runtime, RuntimeConfig, compat

pytestmark = pytest.mark.usefixtures("clean_kora_env", "isolated_imports")


@pytest.fixture(autouse=True)
def no_agent_yet(isolated_imports: None) -> None:
    """Start without any ``agent`` module (``isolated_imports`` puts back what was there)."""
    for name in [n for n in sys.modules if n == "agent" or n.startswith("agent.")]:
        del sys.modules[name]


@pytest.fixture
def real_agent_package(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A real, importable ``agent`` package with its own ``identity_spec`` module."""
    site = tmp_path / "site"
    package = site / "agent"
    package.mkdir(parents=True)
    (package / "__init__.py").write_text("REAL = True\n", encoding="utf-8")
    (package / "identity_spec.py").write_text("class IdentitySpec:\n    pass\n", encoding="utf-8")
    monkeypatch.syspath_prepend(str(site))
    importlib.invalidate_caches()
    return package


def test_install_exposes_the_very_same_classes() -> None:
    assert compat.install() is True

    from agent.identity_spec import IdentityProvider, IdentitySpec

    assert IdentitySpec is reference_runtime.IdentitySpec
    assert IdentityProvider is reference_runtime.IdentityProvider
    assert isinstance(IdentitySpec("", "prompt"), reference_runtime.IdentitySpec)
    assert compat.is_installed()


def test_the_alias_module_is_reachable_as_an_attribute_and_by_import_module() -> None:
    compat.install()

    import agent

    module = importlib.import_module("agent.identity_spec")
    assert agent.identity_spec is module
    assert sorted(module.__all__) == ["IdentityProvider", "IdentitySpec"]


def test_install_is_idempotent() -> None:
    assert compat.install() is True
    package, module = sys.modules["agent"], sys.modules["agent.identity_spec"]

    assert compat.install() is True

    assert sys.modules["agent"] is package
    assert sys.modules["agent.identity_spec"] is module


def test_uninstall_removes_the_aliases() -> None:
    compat.install()

    compat.uninstall()

    assert "agent" not in sys.modules
    assert "agent.identity_spec" not in sys.modules
    assert not compat.is_installed()
    with pytest.raises(ModuleNotFoundError):
        importlib.import_module("agent.identity_spec")
    compat.uninstall()  # a second call is harmless


def test_installed_context_manager_installs_for_the_block_only() -> None:
    with compat.installed() as ok:
        assert ok is True
        from agent.identity_spec import IdentitySpec

        assert IdentitySpec is reference_runtime.IdentitySpec

    assert "agent" not in sys.modules


def test_installed_context_manager_keeps_an_earlier_install() -> None:
    compat.install()

    with compat.installed() as ok:
        assert ok is True

    assert compat.is_installed()
    assert "agent.identity_spec" in sys.modules


@pytest.mark.usefixtures("real_agent_package")
def test_a_real_agent_package_is_never_shadowed(caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.INFO, logger="reference_runtime"):
        assert compat.install() is False

    assert "agent" not in sys.modules
    assert "real 'agent' package" in caplog.text
    from agent.identity_spec import IdentitySpec

    assert IdentitySpec is not reference_runtime.IdentitySpec
    assert sys.modules["agent"].REAL is True
    compat.uninstall()


def test_an_imported_real_agent_is_left_alone(real_agent_package: Path) -> None:
    import agent

    assert compat.install() is False
    compat.uninstall()

    assert sys.modules["agent"] is agent
    with compat.installed() as ok:
        assert ok is False
    assert sys.modules["agent"] is agent
    assert not compat.is_installed()


FORK_PLUGIN = """\
from agent.identity_spec import IdentitySpec

def register(ctx):
    ctx.register_identity_provider(lambda **kw: IdentitySpec("", "fork-style prompt"))
"""


def test_a_fork_style_plugin_loads_when_the_runtime_installs_compat(
    make_plugin: Callable[..., Path], plugins_root: Path
) -> None:
    make_plugin("kct_fork", FORK_PLUGIN)

    runtime = Runtime(
        RuntimeConfig(enabled=("kct_fork",), plugin_dirs=(plugins_root,), entry_point_groups=()),
        install_compat=True,
    )

    assert runtime.load().errors == {}
    assert runtime.resolve_identity().plugin == "kct_fork"


def test_a_fork_style_plugin_fails_cleanly_without_compat(
    make_plugin: Callable[..., Path], plugins_root: Path
) -> None:
    make_plugin("kct_fork", FORK_PLUGIN)

    runtime = Runtime(
        RuntimeConfig(enabled=("kct_fork",), plugin_dirs=(plugins_root,), entry_point_groups=())
    )

    assert "ModuleNotFoundError" in runtime.load().errors["kct_fork"]
    assert "agent" not in sys.modules


def test_the_compat_aliases_fixture_works(compat_aliases: None) -> None:
    from agent.identity_spec import IdentitySpec

    assert IdentitySpec is reference_runtime.IdentitySpec


class Holder:
    """Something that can hold the aliases (weak-referenceable, unlike a bare object())."""


def test_hold_installs_until_the_last_holder_releases() -> None:
    first, second = Holder(), Holder()

    assert compat.hold(first) is True
    assert compat.hold(second) is True
    compat.release(first)
    assert compat.is_installed()
    compat.release(second)

    assert "agent" not in sys.modules
    assert "agent.identity_spec" not in sys.modules


def test_release_keeps_aliases_installed_before_the_first_hold() -> None:
    compat.install()
    holder = Holder()

    compat.hold(holder)
    compat.release(holder)

    assert compat.is_installed()


def test_release_of_a_non_holder_is_harmless() -> None:
    compat.release(Holder())

    assert "agent" not in sys.modules


def test_a_closed_runtime_leaves_no_agent_module(
    make_plugin: Callable[..., Path], plugins_root: Path
) -> None:
    make_plugin("kct_fork", FORK_PLUGIN)
    config = RuntimeConfig(
        enabled=("kct_fork",), plugin_dirs=(plugins_root,), entry_point_groups=()
    )

    with Runtime(config, install_compat=True) as runtime:
        assert runtime.resolve_identity().plugin == "kct_fork"
        assert compat.is_installed()
    runtime.close()  # closing twice is harmless

    assert "agent" not in sys.modules
    assert "agent.identity_spec" not in sys.modules


def test_one_runtime_closing_keeps_the_aliases_another_open_runtime_holds(
    make_plugin: Callable[..., Path], plugins_root: Path
) -> None:
    make_plugin("kct_fork", FORK_PLUGIN)
    config = RuntimeConfig(
        enabled=("kct_fork",), plugin_dirs=(plugins_root,), entry_point_groups=()
    )
    first, second = Runtime(config, install_compat=True), Runtime(config, install_compat=True)
    first.load()
    second.load()

    first.close()
    assert compat.is_installed()
    second.close()

    assert "agent" not in sys.modules
