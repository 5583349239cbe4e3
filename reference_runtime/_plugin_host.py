"""What a plugin's registration context needs from the runtime it registers into.

:class:`~reference_runtime.PluginContext` talks to its runtime only through this protocol, so the
context does not depend on :class:`~reference_runtime.Runtime` (which builds contexts) and a host
other than the reference runtime can give plugins the same context by offering these members.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Protocol

from ._daemons import BackgroundDaemonRegistry
from ._dispatch import Dispatcher
from ._listeners import ListenerRegistry
from ._llm import LLMBackend
from ._registrations import RegistrationStore, ToolRecord

__all__ = ["PluginHost"]


class PluginHost(Protocol):
    """The runtime as a registration context sees it.

    A context applies its plugin's registrations here when it commits and takes them back here
    when it rolls back; everything else is read.
    """

    #: The daemon side: committed daemon entries.
    daemons: BackgroundDaemonRegistry
    #: The listener side: committed listener factories and listener-side tasks.
    listeners: ListenerRegistry
    #: What ``ctx.llm.complete`` calls; ``None`` means no model.
    llm_backend: LLMBackend | None

    @property
    def dispatcher(self) -> Dispatcher:
        """The hook dispatcher committed hook callbacks are added to."""
        ...

    @property
    def registration_store(self) -> RegistrationStore:
        """Committed Hermes-surface registrations (tools, commands, hooks, ...)."""
        ...

    @property
    def settings_by_plugin(self) -> dict[str, dict[str, Any]]:
        """Each plugin's settings, as the host holds them; committed ``set_config`` writes land
        here."""
        ...

    def listener_holders(self, name: str) -> tuple[str, ...]:
        """The loaded plugins whose committed registrations hold the listener-side ``name``."""
        ...

    def is_loaded(self, key: str) -> bool:
        """Whether the plugin ``key`` loaded (its registrations are committed)."""
        ...

    def tool(self, name: str) -> ToolRecord | None:
        """The tool registered as ``name``, if any."""
        ...

    def call_tool(self, name: str, args: Mapping[str, Any], **extra: Any) -> Any:
        """Call tool ``name``'s handler; its exception propagates."""
        ...
