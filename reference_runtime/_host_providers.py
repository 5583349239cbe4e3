"""Model providers a plugin registers with the installed host's own registry.

Upstream Hermes has no ``PluginContext`` method for a model provider (an LLM backend): a
model-provider plugin calls the host module's ``providers.register_provider(profile)``, at
import or in ``register``, and the host keeps the profile by name. Such a plugin has registered
something though its context saw nothing. So while a plugin is imported and registered, the
loader puts a recording wrapper in place of that function (a plugin that imports it binds the
wrapper) and counts each call made from the plugin's own modules as its ``model_provider``
registration. Calls from the host's modules (its bundled providers, discovered lazily when
something first asks for one) are not the plugin's.

Without the host (no importable ``providers`` module with ``register_provider``), there is
nothing to watch.
"""

from __future__ import annotations

import importlib
import importlib.util
import sys
from collections.abc import Callable
from typing import Any

from ._registrations import Registration

__all__ = ["HostModelProviders"]

#: The host module, and the function a plugin calls on it.
_MODULE = "providers"
_FUNCTION = "register_provider"


def _host_module() -> Any:
    module = sys.modules.get(_MODULE)
    if module is None:
        try:
            if importlib.util.find_spec(_MODULE) is None:
                return None
            module = importlib.import_module(_MODULE)
        except Exception:  # noqa: BLE001 - a broken or foreign module is no host registry
            return None
    return module if callable(getattr(module, _FUNCTION, None)) else None


def _caller_module(depth: int) -> str:
    frame = sys._getframe(depth)
    return str(frame.f_globals.get("__name__", ""))


class HostModelProviders:
    """Record, from now until :meth:`added`, the profiles the modules of ``package`` register
    with the host (``package``: the plugin's top-level package; ``None``: record nothing)."""

    def __init__(self, package: str | None) -> None:
        self._package = package
        self._seen: list[tuple[str, Any]] = []
        self._module = _host_module() if package is not None else None
        self._original: Callable[..., Any] | None = None
        if self._module is not None:
            self._original = getattr(self._module, _FUNCTION)
            setattr(self._module, _FUNCTION, self._wrapper(self._original))

    def _owns(self, module: str) -> bool:
        package = self._package
        return package is not None and (module == package or module.startswith(f"{package}."))

    def _wrapper(self, original: Callable[..., Any]) -> Callable[..., Any]:
        def register_provider(profile: Any, *args: Any, **kwargs: Any) -> Any:
            # Recording while the plugin loads (``_module`` is cleared by :meth:`added`); a
            # plugin that bound the wrapper keeps calling through it to the host's afterwards.
            if self._module is not None and self._owns(_caller_module(2)):
                self._seen.append((str(getattr(profile, "name", profile)), profile))
            return original(profile, *args, **kwargs)

        register_provider.__wrapped__ = original  # type: ignore[attr-defined]
        return register_provider

    def added(self, plugin: str) -> tuple[Registration, ...]:
        """Stop recording (the host's function is put back) and return what the plugin
        registered, as ``plugin``'s registrations of kind ``model_provider``, keyed by the
        profile's name."""
        if self._module is not None:
            setattr(self._module, _FUNCTION, self._original)
            self._module = None
        return tuple(
            Registration(plugin, f"{_MODULE}.{_FUNCTION}", "model_provider", name, {"profile": p})
            for name, p in self._seen
        )
