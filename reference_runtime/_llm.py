"""``ctx.llm``: host-owned completions, honest about having no model behind them.

Upstream hosts give plugins a completion client owned by the host (its model, keys and
accounting). The reference runtime never talks to a model on a plugin's behalf: by default
``ctx.llm`` says so (:attr:`PluginLLM.available` is false and :meth:`PluginLLM.complete` raises
:class:`~reference_runtime.LLMUnavailableError`). A host, or a test, that wants plugins to get
completions sets :attr:`Runtime.llm_backend <reference_runtime.Runtime.llm_backend>`.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable, Mapping, Sequence
from typing import Any, Protocol

from ._dispatch import resolve_awaitable
from ._errors import LLMUnavailableError

__all__ = ["BackendHolder", "LLMBackend", "PluginLLM"]

#: ``backend(plugin, messages, **options)``: the completion for ``plugin``, sync or async.
LLMBackend = Callable[..., Any]


class BackendHolder(Protocol):
    """Whatever holds the backend ``ctx.llm`` calls: the runtime, read at each call."""

    llm_backend: LLMBackend | None


class PluginLLM:
    """The completion client one plugin sees as ``ctx.llm``.

    Its one method, :meth:`complete`, is the reference's minimal form of upstream's client: it
    passes the plugin's name, the messages and any options to the runtime's backend.
    """

    def __init__(self, plugin: str, runtime: BackendHolder) -> None:
        self._plugin = plugin
        self._runtime = runtime

    @property
    def available(self) -> bool:
        """Whether a backend is set; without one :meth:`complete` raises."""
        return self._runtime.llm_backend is not None

    def complete(self, messages: str | Sequence[Mapping[str, Any]], **options: Any) -> Any:
        """The backend's completion of ``messages`` (a prompt, or chat messages).

        :raises LLMUnavailableError: the runtime has no backend (the reference's default).
        """
        backend = self._runtime.llm_backend
        if backend is None:
            msg = (
                f"plugin {self._plugin!r}: ctx.llm.complete(...) has no model behind it: the "
                "reference runtime never calls a model for plugins. Check ctx.llm.available "
                "first, or (in a host or test) set runtime.llm_backend = "
                "callable(plugin, messages, **options)"
            )
            raise LLMUnavailableError(msg, plugin=self._plugin)
        result = backend(self._plugin, messages, **options)
        if inspect.isawaitable(result):
            result = resolve_awaitable(result)
        return result

    def __repr__(self) -> str:
        state = "backend set" if self.available else "no model: complete() raises"
        return f"<PluginLLM for {self._plugin!r}, {state}>"
