"""Hook dispatch on pluggy, with each callback isolated and attributed to its plugin.

Callbacks registered through a plugin context are kept in *chains*: consecutive callbacks of one
hook, in registration order, that pluggy sees as one implementation. A chain spreads the call's
``context`` back into keywords for each callback, awaits an async callback, turns an exception
into a logged ``None`` so one plugin cannot break a hook for the others, and tags each result
with its plugin's name so identity resolution can say who won.

Why chains rather than one pluggy implementation per callback: pluggy pays per implementation,
when it registers one (it scans the hook's implementations and the plugin object's attributes,
so registering n callbacks on one hook costs O(n^2)) and when it calls one (a loop around each
call). A chain pays that once. The order is the same as one ``trylast`` implementation per
callback would give: a callback joins the chain pluggy calls last when there is one, and starts
a new chain otherwise (after a native ``trylast`` implementation registered in between, say).
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

from ._hookspecs import IDENTITY_HOOK, PROJECT_NAME, HookSpecs, hookimpl
from ._identity import IdentitySpec

__all__ = ["Attributed", "Dispatcher", "describe_callable", "resolve_awaitable"]

_log = logging.getLogger("reference_runtime")
_isawaitable = inspect.isawaitable


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


def _raised(plugin: str, hook: str, callback: object, exc: Exception) -> None:
    _log.warning(
        "plugin %r: %s callback %s raised %s: %s; skipped",
        plugin,
        hook,
        describe_callable(callback),
        type(exc).__name__,
        exc,
    )


class _Results(list):  # type: ignore[type-arg]
    """A chain's results for an observer hook (one pluggy result holding several)."""


class _Entry:
    """One registered callback: the handle :meth:`Dispatcher.add` returns."""

    __slots__ = ("callback", "chain", "plugin")

    def __init__(self, chain: _Chain, plugin: str, callback: Callable[..., Any]) -> None:
        self.chain = chain
        self.plugin = plugin
        self.callback = callback


class _Chain:
    """Consecutive callbacks of one hook, registered with pluggy as one plugin object."""

    def __init__(self, hook: str) -> None:
        self.hook = hook
        self.entries: list[_Entry] = []
        # What a call iterates: a snapshot, so that a callback registered during a call is not
        # called by it (pluggy copies its implementation list per call for the same reason).
        self._snapshot: tuple[tuple[str, Callable[..., Any]], ...] | None = ()
        call = _first_claim(self, hook) if hook == IDENTITY_HOOK else _every_result(self, hook)
        # trylast turns pluggy's last-registered-first call order into registration order,
        # which is plugin order because plugins commit in enabled order.
        setattr(self, f"kora_chain_{hook}", hookimpl(trylast=True, specname=hook)(call))

    def add(self, plugin: str, callback: Callable[..., Any]) -> _Entry:
        entry = _Entry(self, plugin, callback)
        self.entries.append(entry)
        self._snapshot = None
        return entry

    def remove(self, entry: _Entry) -> None:
        self.entries.remove(entry)
        self._snapshot = None

    def snapshot(self) -> tuple[tuple[str, Callable[..., Any]], ...]:
        if self._snapshot is None:
            self._snapshot = tuple((e.plugin, e.callback) for e in self.entries)
        return self._snapshot


def _first_claim(chain: _Chain, hook: str) -> Callable[..., Any]:
    def first_claim(context: Mapping[str, Any]) -> Attributed | None:
        for plugin, callback in chain.snapshot():
            try:
                result = callback(**context)
                if result is not None and _isawaitable(result):
                    result = resolve_awaitable(result)
            except Exception as exc:  # noqa: BLE001 - isolation is the point
                _raised(plugin, hook, callback, exc)
                continue
            if result is not None:
                claim = _identity_claim(plugin, callback, result)
                if claim is not None:
                    return claim
        return None

    return first_claim


def _every_result(chain: _Chain, hook: str) -> Callable[..., Any]:
    def every_result(context: Mapping[str, Any]) -> _Results | None:
        results = _Results()
        for plugin, callback in chain.snapshot():
            try:
                result = callback(**context)
                if result is not None and _isawaitable(result):
                    result = resolve_awaitable(result)
            except Exception as exc:  # noqa: BLE001 - isolation is the point
                _raised(plugin, hook, callback, exc)
                continue
            if result is not None:
                results.append(Attributed(plugin, result))
        return results or None

    return every_result


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
        #: Hook name → the chain a new callback may join.
        self._tails: dict[str, _Chain] = {}

    def _called_last(self, chain: _Chain) -> bool:
        caller = getattr(self.manager.hook, chain.hook, None)
        # pluggy calls its implementations from the end of this list to the start.
        impls = caller.get_hookimpls() if caller is not None else []
        return bool(impls) and impls[0].plugin is chain

    def add(self, plugin: str, hook: str, callback: Callable[..., Any]) -> object:
        """Register ``callback`` for ``hook`` on behalf of ``plugin``; return a handle."""
        chain = self._tails.get(hook)
        if chain is None or not self._called_last(chain):
            self._count += 1
            chain = _Chain(hook)
            self.manager.register(chain, name=f"kora:{hook}#{self._count}")
            self._tails[hook] = chain
        return chain.add(plugin, callback)

    def remove(self, handle: object) -> None:
        """Unregister a callback added by :meth:`add`.

        :raises ValueError: ``handle`` is not a registered callback of this dispatcher.
        """
        chain = handle.chain if isinstance(handle, _Entry) else None
        if chain is None or handle not in chain.entries or self.manager.get_name(chain) is None:
            msg = f"{handle!r} is not a callback registered with this dispatcher"
            raise ValueError(msg)
        chain.remove(handle)
        if not chain.entries:
            self.manager.unregister(chain)
            if self._tails.get(chain.hook) is chain:
                del self._tails[chain.hook]

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
        results: list[Attributed] = []
        for item in outcome:
            if isinstance(item, _Results):
                results.extend(item)
            elif isinstance(item, Attributed):
                results.append(item)
        return results
