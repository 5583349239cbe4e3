"""A network and process guard on PEP 578 audit hooks, for the process a check runs in.

Patching :mod:`socket` (what :mod:`._netguard` does) stops well-behaved clients; code that goes
around it (``_socket`` directly, a reloaded :mod:`socket`, ``ctypes``, a child process) is
stopped here instead. An audit hook cannot be removed once added, so it is installed only in a
check's own process (see :mod:`._child`), and acts only while a guard is armed: inside
:func:`~._netguard.network_guard`. What it blocks raises :class:`~._errors.NetworkBlocked` in the
code that tried, and is recorded, with the place in that code where it happened.

Blocked while armed: outgoing connections, UDP sends and name look-ups on anything but
``AF_UNIX`` sockets (listening is stopped by the socket patches: ``listen`` raises no event);
starting a child process (``subprocess``, ``os.system``,
``os.exec*``, ``os.posix_spawn``, ``os.spawn*``, ``os.fork``); and looking up a networking symbol
of a C library through ``ctypes``.
"""

from __future__ import annotations

import socket
import sys
import sysconfig
import traceback
from collections.abc import Callable
from pathlib import Path
from typing import Any, Final

from kora_conformance._errors import NetworkBlocked

__all__ = ["arm", "disarm", "install", "plugin_location", "seal"]

_UNIX: Final = getattr(socket, "AF_UNIX", None)
_NETWORK_SYMBOLS: Final = frozenset(
    {
        "connect",
        "bind",
        "listen",
        "sendto",
        "sendmsg",
        "getaddrinfo",
        "gethostbyname",
        "gethostbyname_r",
        "gethostbyaddr",
        "socket",
    }
)
_PROCESS_EVENTS: Final = frozenset(
    {"subprocess.Popen", "os.system", "os.exec", "os.posix_spawn", "os.spawn", "os.fork"}
)


class _State:
    """The process's one audit hook: whether it is installed, and where it records."""

    installed = False
    #: Where the armed guard records attempts; ``None`` while disarmed.
    record: Callable[[str], None] | None = None
    #: Sealed: blocking for the rest of the process, whatever disarms it.
    sealed = False


def _discard(attempt: str) -> None:
    """A sealed hook's record: the check is over, so an attempt is blocked but not counted."""


_STATE: Final = _State()
_STDLIB: Final = sysconfig.get_paths()["stdlib"]
_OURS: Final = ("kora_conformance", "reference_runtime", "_pytest")


def plugin_location(frames: traceback.StackSummary) -> str:
    """`` (at FILE:LINE)`` of the innermost frame of plugin code in ``frames`` (not the standard
    library, pytest, the kit or the runtime), or ``""`` when there is none."""
    for frame in reversed(frames):
        name = frame.filename
        if name.startswith(("<", _STDLIB)) and "site-packages" not in name:
            continue
        if any(part in _OURS for part in Path(name).parts):
            continue
        return f" (at {name}:{frame.lineno})"
    return ""


def _where() -> str:
    """Where the plugin's code is in the current stack (this hook's own frames left out)."""
    return plugin_location(traceback.StackSummary.from_list(traceback.extract_stack()[:-2]))


def _socket_attempt(event: str, args: tuple[Any, ...]) -> str | None:
    sock, address = args[0], args[1] if len(args) > 1 else None
    if getattr(sock, "family", None) == _UNIX:
        return None
    verb = event.split(".")[1]
    if isinstance(address, tuple) and len(address) >= 2:
        return f"{verb} {address[0]}:{address[1]}"
    return f"{verb} {address!r}"


def _describe(event: str, args: tuple[Any, ...]) -> str | None:
    """What ``event`` tries to do, if the guard blocks it; ``None`` when it is allowed."""
    what: str | None = None
    # A bind alone is not a server (urllib3 binds ::1 at import to probe for IPv6); listen() is,
    # and it raises no audit event, so the socket patches of _netguard catch it.
    if event in {"socket.connect", "socket.sendto", "socket.sendmsg"}:
        what = _socket_attempt(event, args)
    elif event in {"socket.getaddrinfo", "socket.gethostbyname", "socket.gethostbyaddr"}:
        what = f"look-up of {args[0]!r}"
    elif event in _PROCESS_EVENTS:
        shown = args[1] if event == "subprocess.Popen" and len(args) > 1 else args[:1]
        what = f"child process ({event}: {shown!r})"
    elif event == "ctypes.dlsym" and len(args) > 1 and str(args[1]) in _NETWORK_SYMBOLS:
        what = f"ctypes look-up of the C function {args[1]!r}"
    return what


def _hook(event: str, args: tuple[Any, ...]) -> None:
    record = _STATE.record
    if record is None:
        return
    what = _describe(event, args)
    if what is None:
        return
    text = what + _where()
    record(text)
    raise NetworkBlocked(text)


def install() -> None:
    """Add the audit hook to this process (once; it stays until the process ends).

    ``_posixsubprocess.fork_exec`` (what ``subprocess`` and multiprocessing's ``spawn`` start
    processes with) raises no audit event of its own, so it is wrapped here as well: before any
    plugin code runs in the process, so a plugin can only reach the wrapped one.
    """
    if _STATE.installed:
        return
    sys.addaudithook(_hook)
    try:
        import _posixsubprocess  # noqa: PLC0415 - POSIX only
    except ImportError:  # pragma: no cover - Windows
        pass
    else:
        original = _posixsubprocess.fork_exec

        def fork_exec(*args: Any, **kwargs: Any) -> Any:
            sys.audit("os.exec", args[1] if len(args) > 1 else args[:1])
            return original(*args, **kwargs)

        _posixsubprocess.fork_exec = fork_exec
    _STATE.installed = True


def arm(record: Callable[[str], None]) -> bool:
    """Block and ``record`` attempts from now on; ``False`` when the hook is not installed."""
    _STATE.record = record
    return _STATE.installed


def disarm() -> None:
    """Stop blocking, unless the hook is sealed (then stop recording only)."""
    _STATE.record = _discard if _STATE.sealed else None


def seal() -> None:
    """Block every attempt from now until the process ends, whatever disarms the hook later;
    attempts made while no guard is armed are not recorded.

    For a check's process once its check is over: a thread the plugin started may outlive the
    check, and the guard's own exit (the sandbox's) must not open the way out for it before the
    process ends. Only for a process that ends soon after: nothing in it reaches out again.
    """
    _STATE.sealed = True
    if _STATE.record is None:
        _STATE.record = _discard
