"""The upstream Hermes runtime adapter (``kora_conformance.adapters.hermes``).

Most tests need ``hermes-agent`` installed (``pip install 'kora-conformance[hermes]'``) and skip
without it; the usage error for a missing host is tested everywhere.
"""

from __future__ import annotations

import importlib.metadata
import importlib.util
import os
import sys
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from kora_conformance._errors import TargetError
from kora_conformance.adapter import LoadSpec, RuntimeAdapter, load_adapter
from kora_conformance.adapters import hermes

SPEC = "kora_conformance.adapters.hermes:adapter"
HOST = importlib.util.find_spec("hermes_cli") is not None
needs_host = pytest.mark.skipif(not HOST, reason="hermes-agent is not installed")


def test_without_the_host_the_factory_says_how_to_install_it(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    def missing(name: str) -> str:
        raise importlib.metadata.PackageNotFoundError(name)

    monkeypatch.setattr(hermes.importlib.metadata, "version", missing)

    with pytest.raises(TargetError) as caught:
        load_adapter(SPEC)

    message = str(caught.value)
    assert SPEC in message
    assert "hermes-agent" in message
    assert "pip install 'kora-conformance[hermes]'" in message


def test_importing_the_adapter_module_does_not_import_the_host() -> None:
    # The module is imported above; the host is imported by a session, not by the import.
    assert "hermes_cli.plugins" not in sys.modules or HOST


HOOKED = """\
def on_start(**kwargs):
    return "kct_hooked"

def register(ctx):
    ctx.register_hook("on_session_start", on_start)
"""
BROKEN = "def register(ctx):\n    raise RuntimeError('kct_broken refuses')\n"


@pytest.fixture
def upstream(
    tmp_path: Path, isolated_imports: None, monkeypatch: pytest.MonkeyPatch
) -> Iterator[Callable[..., object]]:
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    sessions: list[object] = []

    def start(enabled: tuple[str, ...], plugin_dirs: tuple[Path, ...]) -> object:
        adapter = load_adapter(SPEC)
        assert isinstance(adapter, RuntimeAdapter)
        session = adapter.start(LoadSpec(enabled=enabled, plugin_dirs=plugin_dirs))
        sessions.append(session)
        return session

    yield start
    for session in sessions:
        session.close()  # type: ignore[attr-defined]


@needs_host
def test_a_session_loads_enabled_directory_plugins_through_upstream(
    upstream: Callable[..., object], make_plugin: Callable[..., Path], plugins_root: Path
) -> None:
    make_plugin("kct_hooked", HOOKED)
    make_plugin("kct_broken", BROKEN)
    make_plugin("kct_not_enabled", HOOKED)

    session = upstream(("kct_hooked", "kct_broken", "kct_absent"), (plugins_root,))

    assert list(session.loaded) == ["kct_hooked"]  # type: ignore[attr-defined]
    errors = session.load_errors  # type: ignore[attr-defined]
    assert errors["kct_broken"] == "kct_broken refuses"
    assert "no plugin of this name" in errors["kct_absent"]
    assert "kct_not_enabled" not in errors
    assert session.invoke_hook("on_session_start", session_id="s") == ["kct_hooked"]  # type: ignore[attr-defined]


@needs_host
def test_what_upstream_lacks_is_said_by_raising(
    upstream: Callable[..., object], plugins_root: Path
) -> None:
    session = upstream((), (plugins_root,))

    with pytest.raises(hermes.UpstreamLacks, match="no identity hook"):
        session.resolve_identity()  # type: ignore[attr-defined]
    with pytest.raises(hermes.UpstreamLacks, match="no background daemons"):
        session.run_daemons(1.0)  # type: ignore[attr-defined]
    assert list(session.daemon_names()) == []  # type: ignore[attr-defined]


@needs_host
def test_close_puts_the_environment_and_the_process_manager_back(
    upstream: Callable[..., object], plugins_root: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("HERMES_HOME", "/operator/hermes")
    monkeypatch.delenv("HERMES_BUNDLED_PLUGINS", raising=False)
    from hermes_cli import plugins

    before = plugins._plugin_manager
    session = upstream((), (plugins_root,))
    home = Path(os.environ["HERMES_HOME"])
    assert plugins._plugin_manager is session.manager  # type: ignore[attr-defined]

    session.close()  # type: ignore[attr-defined]

    assert os.environ["HERMES_HOME"] == "/operator/hermes"
    assert "HERMES_BUNDLED_PLUGINS" not in os.environ
    assert plugins._plugin_manager is before
    assert not home.exists()
