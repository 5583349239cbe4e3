"""Hook dispatch on pluggy, with each callback isolated and attributed to its plugin.

Callbacks registered through a plugin context are wrapped before pluggy sees them. A wrapper
spreads the call's ``context`` back into keywords, awaits an async callback,
turns an exception into a logged ``None`` so one plugin cannot break a hook for the others, and
tags each result with its plugin's name so identity resolution can say who won. An identity
provider is wrapped the same way, into a callback of the identity hook.

Every callback is its own pluggy implementation, so pluggy, not a loop of ours, decides the call
order and stops a ``firstresult`` hook at its first claim. The price is pluggy's: registering an
implementation scans the hook's existing ones, so n callbacks on one hook cost O(n^2) to
register (about 5 s for 10,000 here), which real plugin sets never approach.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import dataclasses
import inspect
import logging
from collections.abc import Callable, Mapping
from typing import Any

import pluggy

from ._errors import message_of
from ._hookspecs import IDENTITY_HOOK, PROJECT_NAME, HookSpecs, hookimpl
from ._identity import IdentityProvider, IdentitySpec

__all__ = [
    "Attributed",
    "Dispatcher",
    "describe_callable",
    "resolve_awaitable",
    "wrap_identity_provider",
]

_log = logging.getLogger("reference_runtime")


@dataclasses.dataclass(frozen=True)
class Attributed:
    """A hook result and the plugin that returned it."""

    plugin: str
    value: Any


def describe_callable(fn: object) -> str:
    """A short, stable name for a callback in log lines and error messages."""
    module = getattr(fn, "__module__", None)
    qualname = getattr(fn, "__qualname__", None) or type(fn).__qualname__
    return f"{module}.{qualname}" if module else qualname


def resolve_awaitable(awaitable: Any) -> Any:
    """Run ``awaitable`` to completion from synchronous code and return its result.

    Outside an event loop it gets a fresh one; inside a running loop (which a synchronous caller
    cannot block on) it runs on a private loop in a worker thread.
    """
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return asyncio.run(_await(awaitable))
    # Inside a running loop a synchronous caller cannot block on it; a private loop in a worker
    # thread finishes the coroutine without re-entering the caller's loop.
    with concurrent.futures.ThreadPoolExecutor(max_workers=1) as pool:
        return pool.submit(asyncio.run, _await(awaitable)).result()


async def _await(awaitable: Any) -> Any:
    return await awaitable


def _identity_claim(plugin: str, callback: object, result: object) -> Attributed | None:
    if isinstance(result, Mapping) and isinstance(result.get("identity"), IdentitySpec):
        return Attributed(plugin, result)
    _log.warning(
        "plugin %r: %s callback %s returned %r, not {'identity': IdentitySpec} or None; "
        "skipped (return an IdentitySpec from a provider registered with "
        "ctx.register_identity_provider)",
        plugin,
        IDENTITY_HOOK,
        describe_callable(callback),
        result,
    )
    return None


def _wrapped(plugin: str, hook: str, callback: Callable[..., Any]) -> Callable[..., Any]:
    is_identity = hook == IDENTITY_HOOK

    # trylast on every wrapper turns pluggy's last-registered-first call order into
    # registration order, which is plugin order because plugins commit in enabled order.
    @hookimpl(trylast=True, specname=hook)
    def wrapper(context: Mapping[str, Any]) -> Attributed | None:
        try:
            result = callback(**context)
            if result is not None and inspect.isawaitable(result):
                result = resolve_awaitable(result)
        except KeyboardInterrupt:
            raise  # the operator's Ctrl-C stops the call, not just this callback
        except BaseException as exc:  # noqa: BLE001 - isolation is the point (SystemExit too)
            _log.warning(
                "plugin %r: %s callback %s raised %s: %s; skipped",
                plugin,
                hook,
                describe_callable(callback),
                type(exc).__name__,
                exc,  # the exception itself: a host's log handler may want more than its text
            )
            return None
        if result is None:
            return None
        if is_identity:
            return _identity_claim(plugin, callback, result)
        return Attributed(plugin, result)

    return wrapper


class _Registration:
    """One callback as a pluggy plugin object (pluggy registers objects, not functions)."""

    def __init__(self, hook: str, impl: Callable[..., Any]) -> None:
        setattr(self, f"kora_wrapper_{hook}", impl)


class Dispatcher:
    """A pluggy plugin manager holding every plugin's hook callbacks.

    :param manager: the pluggy manager to use; a fresh one with the runtime's specs by default.
    """

    def __init__(self, manager: pluggy.PluginManager | None = None) -> None:
        if manager is None:
            manager = pluggy.PluginManager(PROJECT_NAME)
            manager.add_hookspecs(HookSpecs)
        self.manager = manager
        self._count = 0

    def add(self, plugin: str, hook: str, callback: Callable[..., Any]) -> object:
        """Register ``callback`` for ``hook`` on behalf of ``plugin``; return a handle."""
        self._count += 1
        registration = _Registration(hook, _wrapped(plugin, hook, callback))
        self.manager.register(registration, name=f"{plugin}#{self._count}")
        return registration

    def remove(self, handle: object) -> None:
        """Unregister a callback added by :meth:`add`."""
        self.manager.unregister(handle)

    def call(self, hook: str, kwargs: Mapping[str, Any]) -> list[Attributed]:
        """Call every callback for ``hook`` in plugin order; return the non-None results."""
        caller = getattr(self.manager.hook, hook, None)
        if caller is None:
            return []
        outcome = caller(context=dict(kwargs))
        if outcome is None:
            return []
        if isinstance(outcome, Attributed):
            return [outcome]
        return [item for item in outcome if isinstance(item, Attributed)]


def wrap_identity_provider(plugin: str, provider: IdentityProvider) -> Callable[..., Any]:
    """Adapt a provider returning ``IdentitySpec | None`` to the raw identity hook.

    The spec becomes ``{"identity": spec}`` (the same object); ``None`` stays ``None``; a wrong
    return type or an exception becomes ``None`` and a WARNING naming the plugin.
    """

    def pre_agent_identity_set(**kwargs: Any) -> dict[str, IdentitySpec] | None:
        try:
            spec: object = provider(**kwargs)
            if (
                spec is not None
                and not isinstance(spec, IdentitySpec)
                and inspect.isawaitable(spec)
            ):
                spec = resolve_awaitable(spec)
        except KeyboardInterrupt:
            raise  # the operator's Ctrl-C, not the provider's failure
        except BaseException as exc:  # noqa: BLE001 - a provider must never break engine start-up
            # BaseException too: a provider calling sys.exit() or raising its own
            # BaseException subclass is a broken provider like any other.
            _log.warning(
                "plugin %r: identity provider %s raised %s: %s; skipped (the next provider "
                "or the fallback file supplies the identity)",
                plugin,
                describe_callable(provider),
                type(exc).__name__,
                message_of(exc),
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
