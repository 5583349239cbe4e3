"""The object a plugin's ``register(ctx)`` receives.

A context stages what its plugin registers and hands it to the runtime only when ``register``
returns normally, so a plugin that fails half-way leaves nothing behind. Registrations made after
that (a plugin that keeps its context) take effect at once.
"""

from __future__ import annotations

import inspect
import logging
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from ._dispatch import _run_awaitable, describe_callable
from ._errors import RegistrationError
from ._hookspecs import IDENTITY_HOOK, KNOWN_HOOKS
from ._identity import IdentityProvider, IdentitySpec
from ._manifest import Manifest

if TYPE_CHECKING:
    from ._runtime import Runtime

__all__ = ["PluginContext", "wrap_identity_provider"]

_log = logging.getLogger("reference_runtime")


def wrap_identity_provider(plugin: str, provider: IdentityProvider) -> Callable[..., Any]:
    """Adapt a provider returning ``IdentitySpec | None`` to the raw identity hook.

    The spec becomes ``{"identity": spec}`` (the same object); ``None`` stays ``None``; a wrong
    return type or an exception becomes ``None`` and a WARNING naming the plugin.
    """

    def pre_agent_identity_set(**kwargs: Any) -> dict[str, IdentitySpec] | None:
        try:
            spec: object = provider(**kwargs)
            if inspect.isawaitable(spec):
                spec = _run_awaitable(spec)
        except Exception as exc:  # noqa: BLE001 - a provider must never break engine start-up
            _log.warning(
                "plugin %r: identity provider %s raised %s: %s; skipped (the next provider "
                "or the fallback file supplies the identity)",
                plugin,
                describe_callable(provider),
                type(exc).__name__,
                exc,
            )
            return None
        if spec is None:
            return None
        if not isinstance(spec, IdentitySpec):
            _log.warning(
                "plugin %r: identity provider %s returned %s, not IdentitySpec or None; "
                "skipped (return IdentitySpec(...) to claim, None to decline)",
                plugin,
                describe_callable(provider),
                type(spec).__name__,
            )
            return None
        return {"identity": spec}

    pre_agent_identity_set.provider = provider  # type: ignore[attr-defined]
    pre_agent_identity_set.__qualname__ = f"identity_provider[{describe_callable(provider)}]"
    return pre_agent_identity_set


class PluginContext:
    """Registration surface for one plugin.

    :param manifest: the plugin's manifest; ``manifest.name`` is the plugin's name.
    :param runtime: the runtime the plugin loads into.
    """

    def __init__(self, manifest: Manifest, runtime: Runtime) -> None:
        self.manifest = manifest
        self._runtime = runtime
        self._committed = False
        self._hooks: list[tuple[str, Callable[..., Any]]] = []
        self._handles: list[object] = []
        self.identity_providers: list[IdentityProvider] = []
        self.warnings: list[str] = []

    @property
    def name(self) -> str:
        """The plugin's name."""
        return self.manifest.name

    @property
    def hooks(self) -> tuple[tuple[str, Callable[..., Any]], ...]:
        """Every ``(hook name, callback)`` registered, in order."""
        return tuple(self._hooks)

    def register_hook(self, name: str, callback: Callable[..., Any]) -> None:
        """Register ``callback`` for the hook ``name``.

        The callback is called with keyword arguments only; sync and async callbacks both work.
        An unknown hook name is accepted for forward compatibility and logged at WARNING.

        :raises RegistrationError: ``name`` is not a string or ``callback`` is not callable.
        """
        if not isinstance(name, str) or not name:  # type: ignore[redundant-expr,unused-ignore]
            msg = f"plugin {self.name!r}: register_hook needs a hook name string, got {name!r}"
            raise RegistrationError(msg, plugin=self.name)
        checked: object = callback
        if not callable(checked):
            msg = (
                f"plugin {self.name!r}: register_hook({name!r}, ...) needs a callable, got "
                f"{type(callback).__name__}; pass the function itself, not its result"
            )
            raise RegistrationError(msg, plugin=self.name)
        if name not in KNOWN_HOOKS:
            warning = (
                f"plugin {self.name!r} registered unknown hook {name!r}; it is kept for forward "
                "compatibility but this runtime never calls it (check the spelling)"
            )
            _log.warning("%s", warning)
            self.warnings.append(warning)
        self._hooks.append((name, callback))
        if self._committed:
            self._handles.append(self._runtime._dispatcher.add(self.name, name, callback))

    def register_identity_provider(self, provider: IdentityProvider) -> None:
        """Register a provider that returns an :class:`IdentitySpec` or ``None``.

        It is wrapped for the ``pre_agent_identity_set`` hook: see :func:`wrap_identity_provider`.

        :raises RegistrationError: ``provider`` is not callable.
        """
        checked: object = provider
        if not callable(checked):
            msg = (
                f"plugin {self.name!r}: register_identity_provider needs a callable, got "
                f"{type(provider).__name__}"
            )
            raise RegistrationError(msg, plugin=self.name)
        self.identity_providers.append(provider)
        self.register_hook(IDENTITY_HOOK, wrap_identity_provider(self.name, provider))

    def _commit(self) -> None:
        for hook, callback in self._hooks:
            self._handles.append(self._runtime._dispatcher.add(self.name, hook, callback))
        self._committed = True

    def _rollback(self) -> None:
        for handle in self._handles:
            self._runtime._dispatcher.remove(handle)
        self._handles.clear()
        self._committed = False
