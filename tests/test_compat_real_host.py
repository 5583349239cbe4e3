"""The fork's modules added into a real, installed ``agent`` package (upstream Hermes).

The real package here is a directory on ``sys.path`` written by the test, so nothing needs the
network or ``hermes-agent`` itself.
"""

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
    for name in [n for n in sys.modules if n == "agent" or n.startswith("agent.")]:
        del sys.modules[name]


@pytest.fixture(autouse=True)
def always_uninstall() -> object:
    yield
    compat.uninstall()


def _site(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, files: dict[str, str]) -> Path:
    site = tmp_path / "site"
    for relative, text in files.items():
        path = site / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    monkeypatch.syspath_prepend(str(site))
    importlib.invalidate_caches()
    return site


@pytest.fixture
def upstream_agent(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """An ``agent`` package shaped like upstream's: host modules, none of the fork's."""
    return _site(
        tmp_path,
        monkeypatch,
        {
            "agent/__init__.py": "UPSTREAM = True\n",
            "agent/memory_provider.py": "class MemoryProvider:\n    pass\n",
        },
    )


@pytest.mark.usefixtures("upstream_agent")
def test_the_fork_modules_are_added_into_the_real_package() -> None:
    assert compat.install() is False  # the standalone alias package was not installed

    import agent
    from agent.identity_spec import IdentitySpec
    from agent.memory_provider import MemoryProvider

    assert agent.UPSTREAM is True
    assert IdentitySpec is reference_runtime.IdentitySpec
    assert MemoryProvider.__module__ == "agent.memory_provider"
    assert agent.identity_spec is sys.modules["agent.identity_spec"]
    registry = importlib.import_module("agent.background_daemon_registry")
    assert registry.BackgroundDaemonRegistry is reference_runtime.BackgroundDaemonRegistry
    assert compat.is_installed()


@pytest.mark.usefixtures("upstream_agent")
def test_installing_does_not_import_the_real_package() -> None:
    compat.install()

    assert "agent" not in sys.modules


def test_a_module_the_real_package_has_is_never_replaced(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    _site(
        tmp_path,
        monkeypatch,
        {
            "agent/__init__.py": "",
            "agent/identity_spec.py": "class IdentitySpec:\n    OWN = True\n",
        },
    )
    compat.install()

    from agent.background_daemon_registry import PeriodicTaskSpec
    from agent.identity_spec import IdentitySpec

    assert IdentitySpec.OWN is True
    assert PeriodicTaskSpec is reference_runtime.PeriodicTaskSpec


@pytest.mark.usefixtures("upstream_agent")
def test_an_attribute_the_real_package_sets_is_never_replaced(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    _site(tmp_path / "other", monkeypatch, {"agent/__init__.py": "identity_spec = 'own value'\n"})
    compat.install()

    import agent

    assert agent.identity_spec == "own value"
    compat.uninstall()
    assert agent.identity_spec == "own value"


@pytest.mark.usefixtures("upstream_agent")
def test_uninstall_takes_the_added_modules_out_again() -> None:
    compat.install()
    import agent
    import agent.identity_spec

    compat.uninstall()

    assert not compat.is_installed()
    assert sys.modules["agent"] is agent
    assert "agent.identity_spec" not in sys.modules
    assert not hasattr(agent, "identity_spec")
    with pytest.raises(ModuleNotFoundError):
        importlib.import_module("agent.identity_spec")


@pytest.mark.usefixtures("upstream_agent")
def test_the_context_manager_adds_them_for_the_block_only() -> None:
    with compat.installed():
        from agent.identity_spec import IdentitySpec

        assert IdentitySpec is reference_runtime.IdentitySpec

    assert "agent.identity_spec" not in sys.modules
    assert not compat.is_installed()


@pytest.mark.usefixtures("upstream_agent")
def test_install_says_what_it_did(caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.INFO, logger="reference_runtime"):
        compat.install()

    assert "real 'agent' package" in caplog.text
    assert "agent.identity_spec" in caplog.text


FORK_ON_UPSTREAM = """\
from agent.identity_spec import IdentitySpec
from agent.memory_provider import MemoryProvider

def register(ctx):
    ctx.register_identity_provider(lambda **kw: IdentitySpec("", "fork prompt on upstream"))
"""


@pytest.mark.usefixtures("upstream_agent")
def test_a_fork_plugin_that_also_uses_host_modules_loads(
    make_plugin: Callable[..., Path], plugins_root: Path
) -> None:
    make_plugin("kct_fork_upstream", FORK_ON_UPSTREAM)

    runtime = Runtime(
        RuntimeConfig(
            enabled=("kct_fork_upstream",), plugin_dirs=(plugins_root,), entry_point_groups=()
        ),
        install_compat=True,
    )

    assert runtime.load().errors == {}
    assert runtime.resolve_identity().spec.system_prompt_content == "fork prompt on upstream"


@pytest.mark.usefixtures("upstream_agent")
def test_an_added_module_dropped_from_sys_modules_imports_again() -> None:
    # A check's sandbox drops the modules imported during the check; the real package keeps the
    # attribute the import system set, which must not then read as the package's own module.
    compat.install()
    import agent.identity_spec  # noqa: F401

    del sys.modules["agent.identity_spec"]

    from agent.identity_spec import IdentitySpec

    assert IdentitySpec is reference_runtime.IdentitySpec
