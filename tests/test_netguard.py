"""The network guard blocks and records UDP sends and DNS look-ups, and restores them after."""

from __future__ import annotations

import socket
from collections.abc import Callable
from pathlib import Path

import pytest

from kora_conformance import NetworkBlocked
from kora_conformance.isolation._netguard import network_guard

TARGET = ("127.0.0.1", 9)


def _sendto(sock: socket.socket) -> object:
    return sock.sendto(b"x", TARGET)


def _sendto_flags(sock: socket.socket) -> object:
    return sock.sendto(b"x", 0, TARGET)


def _sendmsg(sock: socket.socket) -> object:
    return sock.sendmsg([b"x"], [], 0, TARGET)


@pytest.mark.parametrize("send", [_sendto, _sendto_flags, _sendmsg])
def test_udp_send_is_blocked_and_recorded(send: Callable[[socket.socket], object]) -> None:
    with (
        socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock,
        network_guard() as guard,
        pytest.raises(NetworkBlocked),
    ):
        send(sock)
    assert guard.attempts == ["127.0.0.1:9"]


@pytest.mark.parametrize(
    ("function", "arg"),
    [
        ("gethostbyname", "localhost"),
        ("gethostbyname_ex", "localhost"),
        ("gethostbyaddr", "127.0.0.1"),
    ],
)
def test_dns_lookup_is_blocked_and_recorded(function: str, arg: str) -> None:
    with network_guard() as guard, pytest.raises(NetworkBlocked):
        getattr(socket, function)(arg)  # looked up inside the guard: the patched function
    assert guard.attempts == [repr(arg)]


def test_everything_is_restored_on_exit() -> None:
    names = ("gethostbyname", "gethostbyname_ex", "gethostbyaddr", "getaddrinfo")
    before = [getattr(socket, n) for n in names]
    methods = ("connect", "connect_ex", "sendto", "sendmsg")
    before_methods = [getattr(socket.socket, n) for n in methods]
    with network_guard():
        pass
    assert [getattr(socket, n) for n in names] == before
    assert [getattr(socket.socket, n) for n in methods] == before_methods


@pytest.mark.skipif(not hasattr(socket, "AF_UNIX"), reason="no AF_UNIX sockets")
def test_af_unix_datagrams_still_allowed(tmp_path: Path) -> None:
    path = str(tmp_path / "s")
    with (
        socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM) as server,
        socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM) as client,
    ):
        server.bind(path)
        with network_guard() as guard:
            assert client.sendto(b"a", path) == 1
            assert client.sendmsg([b"b"], [], 0, path) == 1
        assert guard.attempts == []
        assert server.recv(1) == b"a"
        assert server.recv(1) == b"b"


def test_attempts_since_a_mark_leave_out_threads_that_were_running_before() -> None:
    import threading

    def attempt(host: str) -> None:
        with pytest.raises(NetworkBlocked):
            socket.getaddrinfo(host, 443)

    tried, finish = threading.Event(), threading.Event()

    def neighbour_body() -> None:
        attempt("neighbour.kct.invalid")
        tried.set()
        finish.wait(10)

    with network_guard() as guard:
        attempt("before.kct.invalid")
        mark = len(guard.attempts)
        neighbour = threading.Thread(target=neighbour_body)
        neighbour.start()
        tried.wait(10)
        # Alive throughout, so no thread started below can be given its identifier.
        running = {threading.get_ident(), neighbour.ident}
        attempt("mine.kct.invalid")
        spawned = threading.Thread(target=attempt, args=("spawned.kct.invalid",))
        spawned.start()
        spawned.join()
        finish.set()
        neighbour.join()

    assert guard.attempts_since(mark) == [
        "neighbour.kct.invalid:443",
        "mine.kct.invalid:443",
        "spawned.kct.invalid:443",
    ]
    # Leaving out the caller's own thread too: only what a thread started later attempted.
    assert guard.attempts_since(mark, not_in=running) == ["spawned.kct.invalid:443"]
