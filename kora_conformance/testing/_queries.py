"""What the host raises, and what a runtime's plugin context offers for tools and commands."""

from __future__ import annotations

import argparse
from collections.abc import Callable, Mapping, Sequence
from typing import Any, Final, Protocol, runtime_checkable

from kora_conformance._errors import KitError

__all__ = [
    "QUERIES",
    "CliParts",
    "PluginMisbehaved",
    "PluginNotLoaded",
    "RecordsCliCommands",
    "RecordsCommands",
    "RecordsTools",
    "UnsupportedByRuntime",
]


class PluginNotLoaded(KitError, AssertionError):
    """The plugin under test did not load: its import or ``register`` failed, its manifest is
    broken, or it was not found. The message carries the runtime's own explanation."""


class PluginMisbehaved(KitError, AssertionError):
    """The plugin under test did something the host logs and survives (a callback raised, a
    provider returned the wrong type); the host raises so that the test sees it."""


class UnsupportedByRuntime(KitError, NotImplementedError):
    """The runtime does not record what a helper needs (tools, slash or CLI commands)."""


@runtime_checkable
class RecordsTools(Protocol):
    """A plugin context that records the tools its plugin registered (``register_tool``)."""

    def tool_names(self) -> Sequence[str]:
        """The names of the tools the plugin registered, in registration order."""
        ...

    def tool_handler(self, name: str) -> Callable[..., Any] | None:
        """The handler of tool ``name`` (``handler(args: dict, **kwargs) -> str`` returning
        JSON, sync or async), or ``None`` when the plugin registered no such tool."""
        ...


@runtime_checkable
class RecordsCommands(Protocol):
    """A plugin context that records its plugin's slash commands (``register_command``)."""

    def command_names(self) -> Sequence[str]:
        """The registered ``/name`` commands, without the slash, in registration order."""
        ...

    def command_handler(self, name: str) -> Callable[..., Any] | None:
        """The handler of ``/name`` (called with the raw argument string, sync or async), or
        ``None``."""
        ...


#: A CLI command's parts: ``setup_fn(subparser)`` and the optional ``handler_fn(namespace)``.
CliParts = tuple[
    Callable[[argparse.ArgumentParser], Any], Callable[[argparse.Namespace], Any] | None
]


@runtime_checkable
class RecordsCliCommands(Protocol):
    """A plugin context that records its plugin's CLI commands (``register_cli_command``)."""

    def cli_command_names(self) -> Sequence[str]:
        """The registered ``hermes <name>`` commands, in registration order."""
        ...

    def cli_command(self, name: str) -> CliParts | None:
        """``(setup_fn, handler_fn)`` of command ``name``, or ``None``."""
        ...


#: Each query interface: what it records, and its methods, for error messages.
QUERIES: Final[Mapping[type, tuple[str, str]]] = {
    RecordsTools: ("tools", "tool_names(), tool_handler(name)"),
    RecordsCommands: ("slash commands", "command_names(), command_handler(name)"),
    RecordsCliCommands: ("CLI commands", "cli_command_names(), cli_command(name)"),
}
