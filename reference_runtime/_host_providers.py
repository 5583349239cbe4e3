"""Model providers a plugin registers with the installed host's own registry.

Upstream Hermes has no ``PluginContext`` method for a model provider (an LLM backend): a
model-provider plugin calls the host module's ``providers.register_provider(profile)``, at
import or in ``register``, and the host keeps the profile by name. Such a plugin has registered
something though its context saw nothing, so the loader reads the host's registry before the
plugin is imported and after its ``register`` returned, and counts each profile added (or
replaced) in between as the plugin's ``model_provider`` registration.

Without the host (no ``providers`` module with ``register_provider``), there is nothing to read.
"""

from __future__ import annotations

import sys
from typing import Any

from ._registrations import Registration

__all__ = ["HostModelProviders"]

#: The host module, and the function a plugin calls on it.
_MODULE = "providers"
_FUNCTION = "register_provider"


def _registry() -> dict[str, Any]:
    """The host's model-provider profiles by name, as now (empty: the host module not loaded)."""
    module = sys.modules.get(_MODULE)
    if module is None or not callable(getattr(module, _FUNCTION, None)):
        return {}
    # The host keeps its profiles in this module-level dict; it has no public listing that
    # does not first discover (and so add) its bundled providers.
    registry = getattr(module, "_REGISTRY", None)
    return dict(registry) if isinstance(registry, dict) else {}


class HostModelProviders:
    """Take the host registry's state now; :meth:`added` is what was registered since."""

    def __init__(self) -> None:
        self._before = _registry()

    def added(self, plugin: str) -> tuple[Registration, ...]:
        """The profiles registered since this object was made, as ``plugin``'s registrations
        (kind ``model_provider``, keyed by the profile's name)."""
        return tuple(
            Registration(plugin, f"{_MODULE}.{_FUNCTION}", "model_provider", name, {"profile": p})
            for name, p in _registry().items()
            if self._before.get(name) is not p
        )
