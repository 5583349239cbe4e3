"""Every name-giving ``ctx.register_*`` call a plugin makes while it loads, as it made it.

The runtime keeps one registration per name: a plugin that registers a command name twice keeps
the second handler and loses the first without a word, which the runtime's records no longer
show. :func:`recording_registrations` wraps the public ``PluginContext`` methods that give a
name (tools, slash commands, CLI commands) for the length of a block and records each call.
"""

from __future__ import annotations

import contextlib
import dataclasses
import functools
from collections.abc import Callable, Iterator
from typing import Any, Final

from reference_runtime import PluginContext, surface_method

__all__ = ["NAMED_METHODS", "RegisterCall", "recording_registrations", "same_callable"]

#: The registration methods whose first argument is a name the host keeps one of.
NAMED_METHODS: Final = ("register_tool", "register_command", "register_cli_command")


@dataclasses.dataclass(frozen=True)
class RegisterCall:
    """One call of a :data:`NAMED_METHODS` method, its arguments bound by upstream's names."""

    plugin: str
    method: str
    arguments: dict[str, Any]

    @property
    def name(self) -> object:
        return self.arguments.get("name")


def same_callable(a: object, b: object) -> bool:
    """Whether ``a`` and ``b`` run the same code: the same object, or functions (or partials of
    them) with one code object, such as a closure made again for the same tool."""
    while isinstance(a, functools.partial):
        a = a.func
    while isinstance(b, functools.partial):
        b = b.func
    code_a, code_b = getattr(a, "__code__", a), getattr(b, "__code__", b)
    return a is b or code_a is code_b


@contextlib.contextmanager
def recording_registrations() -> Iterator[list[RegisterCall]]:
    """Record the :data:`NAMED_METHODS` calls of every plugin context inside the block."""
    calls: list[RegisterCall] = []
    originals = {name: getattr(PluginContext, name) for name in NAMED_METHODS}
    # The methods may be inherited (generated on a base class): put back exactly what was there.
    own = {name for name in NAMED_METHODS if name in vars(PluginContext)}

    def wrapped(name: str, original: Callable[..., Any]) -> Callable[..., Any]:
        signature = surface_method(name).signature()

        @functools.wraps(original)
        def record(self: PluginContext, *args: Any, **kwargs: Any) -> Any:
            try:
                bound = signature.bind(self, *args, **kwargs)
            except TypeError:
                pass  # the runtime refuses the call itself, with its own message
            else:
                bound.apply_defaults()
                arguments = {k: v for k, v in bound.arguments.items() if k != "self"}
                calls.append(RegisterCall(self.name, name, arguments))
            return original(self, *args, **kwargs)

        return record

    for name, original in originals.items():
        setattr(PluginContext, name, wrapped(name, original))
    try:
        yield calls
    finally:
        for name, original in originals.items():
            if name in own:
                setattr(PluginContext, name, original)
            else:
                delattr(PluginContext, name)
