"""Blocking and recording network access while a check runs.

Patching the socket layer (``connect``, ``connect_ex``, ``sendto``, ``sendmsg``, ``listen``, name
resolution)
catches every client built on it: ``urllib``, ``http.client``, httpx, asyncio streams, UDP. An
attempt raises :class:`NetworkBlocked` in the plugin's code and is recorded for the check to
report.
"""

from __future__ import annotations

import socket
import threading
from collections.abc import Collection, Iterator
from contextlib import contextmanager
from typing import Any

from kora_conformance._errors import NetworkBlocked
from kora_conformance.isolation import _audit as audit

__all__ = ["NetworkGuard", "network_guard"]


class NetworkGuard:
    """The attempts recorded by :func:`network_guard`, and the thread each was made in."""

    def __init__(self) -> None:
        self.attempts: list[str] = []
        self._threads: list[int] = []

    def record(self, text: str) -> None:
        """Record one blocked attempt, made in the current thread."""
        self.attempts.append(text)
        self._threads.append(threading.get_ident())

    def attempts_since(self, mark: int, *, not_in: Collection[int] = ()) -> list[str]:
        """The attempts recorded after the first ``mark`` (``len(attempts)`` taken earlier),
        leaving out those made in the threads ``not_in`` (their identifiers): what a call
        attempted, and the threads it started, but not threads that were running already."""
        pairs = zip(self.attempts[mark:], self._threads[mark:], strict=False)
        return [text for text, thread in pairs if thread not in not_in]

    def _blocked(self, address: object) -> NetworkBlocked:
        text = _describe(address)
        self.record(text)
        return NetworkBlocked(text)


def _describe(address: object) -> str:
    if isinstance(address, tuple) and len(address) >= 2:
        return f"{address[0]}:{address[1]}"
    return repr(address)


@contextmanager
def network_guard() -> Iterator[NetworkGuard]:  # noqa: PLR0915 - one patch per socket call
    """Block outgoing connections and DNS look-ups for the ``with`` block; record attempts.

    Local ``AF_UNIX`` sockets stay usable (``connect``, ``sendto``, ``sendmsg``): they never
    leave the machine.
    """
    guard = NetworkGuard()
    original_connect = socket.socket.connect
    original_connect_ex = socket.socket.connect_ex
    original_sendto = socket.socket.sendto
    original_sendmsg = socket.socket.sendmsg
    original_listen = socket.socket.listen
    original_getaddrinfo = socket.getaddrinfo
    original_gethostbyname = socket.gethostbyname
    original_gethostbyname_ex = socket.gethostbyname_ex
    original_gethostbyaddr = socket.gethostbyaddr

    def connect(self: socket.socket, address: Any) -> None:
        if self.family == getattr(socket, "AF_UNIX", None):
            return original_connect(self, address)
        raise guard._blocked(address)

    def connect_ex(self: socket.socket, address: Any) -> int:
        if self.family == getattr(socket, "AF_UNIX", None):
            return original_connect_ex(self, address)
        raise guard._blocked(address)

    def sendto(self: socket.socket, *args: Any) -> int:
        if self.family == getattr(socket, "AF_UNIX", None):
            return original_sendto(self, *args)
        raise guard._blocked(args[-1] if args else None)

    def sendmsg(self: socket.socket, *args: Any) -> int:
        if self.family == getattr(socket, "AF_UNIX", None):
            return original_sendmsg(self, *args)
        raise guard._blocked(args[3] if len(args) > 3 else "sendmsg on a connected socket")

    def listen(self: socket.socket, *args: Any) -> None:
        if self.family == getattr(socket, "AF_UNIX", None):
            return original_listen(self, *args)
        raise guard._blocked(f"listen on {_describe(self.getsockname())}")  # noqa: EM102

    def getaddrinfo(host: Any, port: Any, *args: Any, **kwargs: Any) -> Any:
        raise guard._blocked((host, port))

    def gethostbyname(host: Any) -> Any:
        raise guard._blocked(host)

    def gethostbyaddr(host: Any) -> Any:
        raise guard._blocked(host)

    socket.socket.connect = connect  # type: ignore[method-assign,assignment]
    socket.socket.connect_ex = connect_ex  # type: ignore[method-assign,assignment]
    socket.socket.sendto = sendto  # type: ignore[method-assign,assignment]
    socket.socket.sendmsg = sendmsg  # type: ignore[method-assign,assignment]
    socket.socket.listen = listen  # type: ignore[method-assign,assignment]
    socket.getaddrinfo = getaddrinfo
    socket.gethostbyname = gethostbyname
    socket.gethostbyname_ex = gethostbyname
    socket.gethostbyaddr = gethostbyaddr
    # In a check's own process the audit hook also catches what goes around these patches.
    audit.arm(guard.record)
    try:
        yield guard
    finally:
        audit.disarm()
        socket.socket.connect = original_connect  # type: ignore[method-assign]
        socket.socket.connect_ex = original_connect_ex  # type: ignore[method-assign]
        socket.socket.sendto = original_sendto  # type: ignore[method-assign]
        socket.socket.sendmsg = original_sendmsg  # type: ignore[method-assign]
        socket.socket.listen = original_listen  # type: ignore[method-assign]
        socket.getaddrinfo = original_getaddrinfo
        socket.gethostbyname = original_gethostbyname
        socket.gethostbyname_ex = original_gethostbyname_ex
        socket.gethostbyaddr = original_gethostbyaddr
