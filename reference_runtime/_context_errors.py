"""Errors the context raises to a plugin's own code, recorded so that a swallowed one is seen.

A plugin that catches the error of a refused registration (or of a member the context lacks)
and carries on loads with less than it meant to register. The context's methods are wrapped so
that an error raised to the plugin's code while its ``register`` runs is recorded as a
:class:`ContextError`, with the plugin's line; a host (or a conformance kit) can then tell a
plugin that registered what it meant from one that passed over a refusal.
"""

from __future__ import annotations

import dataclasses
import dis
import functools
import sys
import types
from collections.abc import Callable
from pathlib import Path
from typing import Any, Final, Protocol

__all__ = ["ContextError", "plugin_caller", "reads_directly", "recorded", "where"]

_RUNTIME_DIR: Final = str(Path(__file__).resolve().parent)
#: Bytecode that reads an attribute directly (``ctx.name``, ``ctx.name(...)``), as opposed to
#: the builtins ``hasattr``/``getattr`` probing for it (a ``CALL``).
_DIRECT_ACCESS: Final = ("LOAD_ATTR", "LOAD_METHOD", "LOAD_SUPER_ATTR")


class _Noting(Protocol):
    """What :func:`recorded` needs of the context it wraps a method of."""

    _committed: bool

    def _note_error(self, call: str, exc: BaseException, frame: types.FrameType) -> None: ...


@dataclasses.dataclass(frozen=True)
class ContextError:
    """An error the context raised to the plugin's own code while its ``register`` ran.

    :param call: what the plugin did: ``ctx.register_tool('search', ...)``, ``ctx._manager``.
    :param error: the exception, as ``Type: message``.
    :param where: the plugin's line that made the call, ``path:line``.
    """

    call: str
    error: str
    where: str

    def describe(self) -> str:
        """One line for a report: the call, what it raised and where."""
        return f"{self.call} raised {self.error} (at {self.where})"


def plugin_caller(depth: int) -> types.FrameType | None:
    """The frame ``depth`` levels up, when it is the plugin's (not the runtime's own) code."""
    frame = sys._getframe(depth + 1)
    return None if frame.f_code.co_filename.startswith(_RUNTIME_DIR) else frame


def where(frame: types.FrameType) -> str:
    """``path:line`` of ``frame``."""
    return f"{frame.f_code.co_filename}:{frame.f_lineno}"


def reads_directly(frame: types.FrameType) -> bool:
    """Whether ``frame`` is reading an attribute itself, rather than probing with the builtins
    ``hasattr``/``getattr(obj, name, default)`` (feature detection, which expects the error)."""
    try:
        instruction = next(
            (i for i in dis.get_instructions(frame.f_code) if i.offset == frame.f_lasti), None
        )
    except Exception:  # noqa: BLE001 - unreadable bytecode: take it as a direct read
        return True
    return instruction is None or instruction.opname.startswith(_DIRECT_ACCESS)


def recorded(method: Callable[..., Any]) -> Callable[..., Any]:
    """Wrap a context method so that an error it raises to the plugin's code inside
    ``register(ctx)`` is recorded (the runtime's own calls, and calls after it, are not)."""

    @functools.wraps(method)
    def call(self: _Noting, *args: Any, **kwargs: Any) -> Any:
        try:
            return method(self, *args, **kwargs)
        except Exception as exc:
            caller = None if self._committed else plugin_caller(1)
            if caller is not None:
                described = getattr(exc, "call", None) or f"{method.__name__}(...)"
                self._note_error(f"ctx.{described}", exc, caller)
            raise

    # A traceback through the wrapper names the method, as one through the method itself did
    # (load errors say which ctx.register_*() call to correct from the frame's name).
    call.__code__ = call.__code__.replace(co_name=method.__name__)  # type: ignore[attr-defined]
    call._kora_recorded = True  # type: ignore[attr-defined]
    return call
