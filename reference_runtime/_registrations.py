"""What plugins registered through the Hermes surface, as frozen records, and where they live.

Every ``ctx.register_*`` call that passes its rules becomes one :class:`Registration`. A context
stages its plugin's records; committing adds them to the runtime's :class:`RegistrationStore`,
which :meth:`Runtime.registrations <reference_runtime.Runtime.registrations>` and the typed
views (:class:`ToolRecord`, :class:`CommandRecord`) read.
"""

from __future__ import annotations

import dataclasses
import os
import types
from collections.abc import Callable, Iterator, Mapping
from typing import Any

__all__ = ["CommandRecord", "Registration", "RegistrationStore", "ToolRecord"]


# eq=False: records are told apart by identity (two plugins may register equal ones), and the
# read-only arguments mapping is not hashable.
@dataclasses.dataclass(frozen=True, eq=False)
class Registration:
    """One accepted ``ctx.register_*`` call.

    :param plugin: the plugin that registered it.
    :param method: the context method called (``"register_tool"``).
    :param kind: what was registered (``"tool"``, ``"command"``, ``"hook"``, ...); the surface
        table's ``kind`` for ``method``.
    :param key: the name it is known by: a tool or command name, a hook name, a provider's name,
        ``<plugin>:<name>`` for a skill.
    :param arguments: every parameter as bound, defaults filled in (read-only).
    """

    plugin: str
    method: str
    kind: str
    key: str
    arguments: Mapping[str, Any]

    def __post_init__(self) -> None:
        object.__setattr__(self, "arguments", types.MappingProxyType(dict(self.arguments)))

    def __getitem__(self, parameter: str) -> Any:
        """The value bound to ``parameter``."""
        return self.arguments[parameter]


@dataclasses.dataclass(frozen=True)
class ToolRecord:
    """A registered tool, typed (``register_tool``'s parameters)."""

    name: str
    toolset: str
    schema: Mapping[str, Any]
    handler: Callable[..., Any]
    plugin: str
    check_fn: Callable[[], Any] | None
    requires_env: tuple[str, ...]
    is_async: bool
    description: str
    emoji: str
    override: bool
    registration: Registration

    @classmethod
    def of(cls, registration: Registration) -> ToolRecord:
        """The typed view of a ``register_tool`` registration."""
        args = registration.arguments
        return cls(
            name=args["name"],
            toolset=args["toolset"],
            schema=args["schema"],
            handler=args["handler"],
            plugin=registration.plugin,
            check_fn=args["check_fn"],
            requires_env=tuple(args["requires_env"] or ()),
            is_async=bool(args["is_async"]),
            description=args["description"] or "",
            emoji=args["emoji"] or "",
            override=bool(args["override"]),
            registration=registration,
        )

    def available(self, environ: Mapping[str, str] | None = None) -> bool:
        """Whether the host would offer the tool: every ``requires_env`` variable is set and
        ``check_fn`` (when given) returns something true. A raising ``check_fn`` means no."""
        env = os.environ if environ is None else environ
        if any(not env.get(name) for name in self.requires_env):
            return False
        if self.check_fn is None:
            return True
        try:
            return bool(self.check_fn())
        except Exception:  # noqa: BLE001 - an availability probe must not break the tool list
            return False


@dataclasses.dataclass(frozen=True)
class CommandRecord:
    """A registered ``/name`` slash command, typed (``register_command``'s parameters)."""

    name: str
    handler: Callable[..., Any]
    plugin: str
    description: str
    args_hint: str
    argument_mode: str | None
    registration: Registration

    @classmethod
    def of(cls, registration: Registration) -> CommandRecord:
        """The typed view of a ``register_command`` registration."""
        args = registration.arguments
        return cls(
            name=args["name"],
            handler=args["handler"],
            plugin=registration.plugin,
            description=args["description"] or "",
            args_hint=args["args_hint"] or "",
            argument_mode=args["argument_mode"],
            registration=registration,
        )


class RegistrationStore:
    """A runtime's committed registrations, in commit order.

    A registration may displace an earlier one under the same kind and key (a tool override, a
    provider of the same name); :meth:`add` hands back what it displaced and where, so a rollback
    can :meth:`restore` it to its place.
    """

    def __init__(self) -> None:
        self._records: list[Registration] = []

    def __iter__(self) -> Iterator[Registration]:
        return iter(tuple(self._records))

    def __len__(self) -> int:
        return len(self._records)

    def held(self, kind: str, key: str) -> Registration | None:
        """The newest committed registration of ``kind`` under ``key``, if any."""
        for record in reversed(self._records):
            if record.kind == kind and record.key == key:
                return record
        return None

    def add(self, record: Registration, *, displace: bool) -> tuple[Registration, int] | None:
        """Append ``record``; with ``displace``, first take out the one holding its key.

        :returns: the displaced record and its former index, or ``None``.
        """
        displaced = None
        if displace:
            held = self.held(record.kind, record.key)
            index = None if held is None else self._index(held)
            if held is not None and index is not None:
                del self._records[index]
                displaced = (held, index)
        self._records.append(record)
        return displaced

    def remove(self, record: Registration) -> None:
        """Take ``record`` out (the very object; an equal one elsewhere stays). A record that
        is no longer there (a later registration displaced it) is left alone."""
        index = self._index(record)
        if index is not None:
            del self._records[index]

    def restore(self, record: Registration, index: int) -> None:
        """Put a displaced ``record`` back at ``index``."""
        self._records.insert(index, record)

    def _index(self, record: Registration) -> int | None:
        # Identity, not equality: two plugins may register equal records.
        return next((i for i, r in enumerate(self._records) if r is record), None)
