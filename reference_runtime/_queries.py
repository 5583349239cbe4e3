"""What a runtime's plugins registered through the Hermes surface, read back and called.

Mixed into :class:`~reference_runtime.Runtime`: the queries a host (or a test, or a conformance
check) makes once plugins are loaded: the committed registrations, the tools and commands as
typed records, calling one, and each plugin's settings.
"""

from __future__ import annotations

import inspect
import types
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from ._dispatch import resolve_awaitable
from ._errors import NotRegisteredError
from ._registrations import CommandRecord, Registration, RegistrationStore, ToolRecord

__all__ = ["RegistrationQueries"]


class RegistrationQueries:
    """Reads back a runtime's Hermes-surface registrations; expects its ``load()``, its
    committed ``_registrations`` and its ``_settings``."""

    if TYPE_CHECKING:  # provided by the class this is mixed into
        _registrations: RegistrationStore
        _settings: dict[str, dict[str, Any]]

        def load(self) -> Any: ...

    def registrations(
        self, plugin: str | None = None, *, kind: str | None = None
    ) -> tuple[Registration, ...]:
        """Every committed registration made through the Hermes surface (hooks included), in
        commit order (plugin order), loading first.

        :param plugin: only this plugin's.
        :param kind: only this kind (``"tool"``, ``"command"``, ``"hook"``, ... as in the
            surface table).
        """
        self.load()
        return tuple(
            record
            for record in self._registrations
            if (plugin is None or record.plugin == plugin) and (kind is None or record.kind == kind)
        )

    def tools(self) -> tuple[ToolRecord, ...]:
        """Every registered tool, one per name (an override replaced the tool it displaced)."""
        return tuple(ToolRecord.of(r) for r in self.registrations(kind="tool"))

    def tool(self, name: str) -> ToolRecord | None:
        """The tool registered as ``name``, if any."""
        return next((t for t in self.tools() if t.name == name), None)

    def commands(self) -> tuple[CommandRecord, ...]:
        """Every registered slash command, one per name."""
        return tuple(CommandRecord.of(r) for r in self.registrations(kind="command"))

    def call_tool(self, name: str, args: Mapping[str, Any], **extra: Any) -> Any:
        """Call tool ``name``'s handler as ``handler(args, **extra)`` and return its result
        unchanged (by the contract, a JSON string); an awaitable result is awaited.

        Unlike ``ctx.dispatch_tool`` (the host's path, which turns failures into error JSON),
        a raising handler's exception propagates, for tests and checks to see.

        :raises NotRegisteredError: no tool is registered as ``name``.
        """
        record = self.tool(name)
        if record is None:
            known = ", ".join(t.name for t in self.tools()) or "none"
            msg = f"no tool is registered as {name!r} (registered: {known})"
            raise NotRegisteredError(msg, kind="tool", name=name)
        result = record.handler(args, **extra)
        if inspect.isawaitable(result):
            result = resolve_awaitable(result)
        return result

    def run_command(self, name: str, raw_args: str = "") -> Any:
        """Run the slash command ``/name`` with its raw argument string and return what its
        handler returned (awaited when it is a coroutine). A leading ``/`` is ignored.

        :raises NotRegisteredError: no command is registered as ``name``.
        """
        wanted = name.removeprefix("/")
        record = next((c for c in reversed(self.commands()) if c.name == wanted), None)
        if record is None:
            known = ", ".join(c.name for c in self.commands()) or "none"
            msg = f"no command is registered as /{wanted} (registered: {known})"
            raise NotRegisteredError(msg, kind="command", name=wanted)
        result = record.handler(raw_args)
        if inspect.isawaitable(result):
            result = resolve_awaitable(result)
        return result

    def configure_plugin(self, plugin: str, settings: Mapping[str, Any]) -> None:
        """Give ``plugin`` its settings (upstream's ``plugins.entries.<id>.settings``), which
        ``ctx.get_config`` and ``ctx.config`` read. Call it before loading."""
        self._settings[plugin] = dict(settings)

    def plugin_settings(self, plugin: str) -> Mapping[str, Any]:
        """``plugin``'s settings as the host holds them (configured, then ``set_config``
        writes committed), read-only."""
        return types.MappingProxyType(dict(self._settings.get(plugin, {})))
