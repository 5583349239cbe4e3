"""The runtime adapter for upstream Hermes, ``hermes-agent`` itself.

``--kora-runtime kora_conformance.adapters.hermes:adapter`` certifies it.

It drives the real ``hermes_cli.plugins.PluginManager`` of an installed ``hermes-agent``
(``pip install 'kora-conformance[hermes]'``), so the runtime checks judge upstream's own loader
and hook dispatch, not a model of them. It is also the model for a fork: a fork certifies its
runtime with an adapter like this one over its own manager, and the checks its fork adds rules
for are the ones it must pass.

How one session maps a :class:`~kora_conformance.LoadSpec` onto upstream:

- A fresh ``HERMES_HOME`` (a temporary directory) whose ``config.yaml`` says
  ``plugins.enabled``; directory plugins of ``spec.plugin_dirs`` that are enabled are linked
  into ``$HERMES_HOME/plugins/``, where upstream looks for user plugins. Entry points are found
  by upstream itself, in ``hermes_agent.plugins``.
- ``HERMES_BUNDLED_PLUGINS`` points at an empty directory, so upstream's bundled plugins (which
  load without being enabled) do not stand between the checks and the probes.
- The manager is installed as upstream's process-wide one for the session, so a plugin that
  asks ``get_plugin_manager()`` gets the manager that loaded it; ``close()`` puts the previous
  one, ``HERMES_HOME`` and ``HERMES_BUNDLED_PLUGINS`` back.

What upstream does not have, the session says by raising, so each check's report names it:
upstream has no identity hook (``pre_agent_identity_set``), so no identity resolution and no
engine that fires it; and no background daemons, so no coordinator to run. Expected today:
upstream fails the Kora-only checks (identity and daemons) and KC-RT-004 (its loader does
``getattr(ep.load(), "register")``, so a ``module:register`` entry point does not load).
"""

from __future__ import annotations

import importlib
import importlib.metadata
import os
import shutil
import tempfile
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any, Final

import yaml

from kora_conformance.adapter import (
    ADAPTER_PROTOCOL_VERSION,
    IdentityOutcome,
    LoadSpec,
    RuntimeSession,
)
from kora_conformance.run._host import HOST_DISTRIBUTION, INSTALL_LINE

__all__ = ["HermesAdapter", "UpstreamLacks", "adapter"]

#: The environment variables a session sets, and puts back on close.
_ENVIRON: Final = ("HERMES_HOME", "HERMES_BUNDLED_PLUGINS")


class UpstreamLacks(NotImplementedError):
    """Upstream Hermes has no counterpart for what the kit asked; the message says which."""


_NO_IDENTITY: Final = (
    "upstream Hermes has no identity hook: nothing fires pre_agent_identity_set and its "
    "PluginContext has no register_identity_provider, so there is no identity to resolve"
)
_NO_DAEMONS: Final = (
    "upstream Hermes has no background daemons: its PluginContext has no "
    "register_background_daemon and there is no coordinator to run"
)


def _find_directory_plugin(name: str, roots: Sequence[Path]) -> Path | None:
    for root in roots:
        candidate = root / name
        if (candidate / "plugin.yaml").is_file() or (candidate / "plugin.yml").is_file():
            return candidate
    return None


class _HermesSession:
    """One upstream ``PluginManager``, loaded from a :class:`LoadSpec`."""

    def __init__(self, spec: LoadSpec) -> None:
        self.spec = spec
        self._saved_environ = {name: os.environ.get(name) for name in _ENVIRON}
        self.home = Path(tempfile.mkdtemp(prefix="kora-hermes-home-"))
        try:
            self._prepare_home()
            plugins: Any = importlib.import_module("hermes_cli.plugins")
            self._plugins_module: Any = plugins
            self._saved_manager = plugins._plugin_manager
            self.manager: Any = plugins.PluginManager()
            plugins._plugin_manager = self.manager
            self.manager.discover_and_load()
        except BaseException:
            self.close()
            raise

    def _prepare_home(self) -> None:
        bundled = self.home / "bundled-plugins"
        user = self.home / "plugins"
        bundled.mkdir()
        user.mkdir()
        for name in self.spec.enabled:
            directory = _find_directory_plugin(name, self.spec.plugin_dirs)
            if directory is not None and not (user / name).exists():
                (user / name).symlink_to(directory, target_is_directory=True)
        config = {"plugins": {"enabled": list(self.spec.enabled)}}
        (self.home / "config.yaml").write_text(yaml.safe_dump(config), encoding="utf-8")
        os.environ["HERMES_HOME"] = str(self.home)
        os.environ["HERMES_BUNDLED_PLUGINS"] = str(bundled)

    def _records(self) -> Mapping[str, Any]:
        records: Mapping[str, Any] = self.manager._plugins
        return records

    @property
    def loaded(self) -> Sequence[str]:
        """Enabled plugins whose ``register`` completed, in upstream's load order."""
        return [
            key
            for key, record in self._records().items()
            if record.enabled and not record.error and key in self.spec.enabled
        ]

    @property
    def load_errors(self) -> Mapping[str, str]:
        """Enabled plugins that did not load, with upstream's own error text."""
        errors: dict[str, str] = {}
        records = self._records()
        for name in self.spec.enabled:
            record = records.get(name)
            if record is None:
                errors[name] = "upstream discovered no plugin of this name"
            elif record.error:
                errors[name] = str(record.error)
        return errors

    def invoke_hook(self, name: str, **kwargs: Any) -> list[Any]:
        results: list[Any] = self.manager.invoke_hook(name, **kwargs)
        return results

    def resolve_identity(self, *, system_prompt_path: Path | None = None) -> IdentityOutcome:
        raise UpstreamLacks(_NO_IDENTITY)

    def build_engine(self, *, system_prompt_path: Path | None = None) -> object:
        msg = f"{_NO_IDENTITY}; upstream's engine (run_agent.AIAgent) is not built by this adapter"
        raise UpstreamLacks(msg)

    def send(self, engine: object, text: str) -> None:
        raise UpstreamLacks(_NO_IDENTITY)

    def daemon_names(self) -> Sequence[str]:
        return []  # upstream has no daemon registry; nothing can be registered in one

    def listener_names(self) -> Sequence[str]:
        return []

    def run_daemons(self, seconds: float) -> int:
        raise UpstreamLacks(_NO_DAEMONS)

    def close(self) -> None:
        plugins = getattr(self, "_plugins_module", None)
        if plugins is not None and plugins._plugin_manager is getattr(self, "manager", None):
            plugins._plugin_manager = self._saved_manager
        for name, value in self._saved_environ.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value
        shutil.rmtree(self.home, ignore_errors=True)


class HermesAdapter:
    """The adapter for an installed ``hermes-agent``.

    :raises RuntimeError: ``hermes-agent`` is not installed; the message says how to install it.
    """

    protocol_version = ADAPTER_PROTOCOL_VERSION
    name = "hermes-agent"

    def __init__(self) -> None:
        try:
            self.version = importlib.metadata.version(HOST_DISTRIBUTION)
        except importlib.metadata.PackageNotFoundError:
            msg = (
                f"the upstream Hermes adapter needs {HOST_DISTRIBUTION} installed beside the "
                f"kit; install it with: {INSTALL_LINE}"
            )
            raise RuntimeError(msg) from None

    def start(self, spec: LoadSpec) -> RuntimeSession:
        return _HermesSession(spec)


def adapter() -> HermesAdapter:
    """The factory for ``--kora-runtime kora_conformance.adapters.hermes:adapter``."""
    return HermesAdapter()
