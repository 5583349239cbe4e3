"""Background daemons: what a plugin registers, and the registry that holds it.

A *daemon* is a named pair of lifecycle callbacks, ``startup(coordinator)`` and ``shutdown()``,
with at most one :class:`PeriodicTaskSpec` that the coordinator fires every interval between the
two. Registration only records; :class:`~reference_runtime.Coordinator` runs them, handing each
startup itself as the :class:`DaemonHost` it is.

Every callback may be sync or async: the coordinator awaits whatever is awaitable. Entries are
validated when they are built, so a malformed daemon fails at registration with a
:class:`~reference_runtime.DaemonSpecError` naming the field, the rule and the fix, not hours
later when the coordinator first calls it.
"""

from __future__ import annotations

import dataclasses
import inspect
import math
import numbers
import re
import threading
from collections.abc import Awaitable, Callable
from typing import Protocol, TypeAlias

from ._clock import Clock
from ._errors import DaemonSpecError, DuplicateDaemonError

__all__ = [
    "DEFAULT_SHUTDOWN_TIMEOUT",
    "BackgroundDaemonEntry",
    "BackgroundDaemonRegistry",
    "DaemonHost",
    "PeriodicCallable",
    "PeriodicTaskSpec",
    "ShutdownCallable",
    "StartupCallable",
    "background_daemon_registry",
    "import_path",
    "install_background_daemon_registry",
    "same_daemon",
]


class DaemonHost(Protocol):
    """What a daemon's ``startup`` is handed: the coordinator running it, as far as a daemon
    may use it (:class:`~reference_runtime.Coordinator` is one)."""

    @property
    def clock(self) -> Clock:
        """The clock the run schedules on; a daemon sleeps on it to follow virtual time."""
        ...

    def request_shutdown(self, reason: str = "requested") -> None:
        """Ask the run to stop (idempotent, safe from any thread)."""
        ...


#: ``startup(coordinator)``; its return value is awaited when awaitable, otherwise ignored.
StartupCallable: TypeAlias = Callable[[DaemonHost], "Awaitable[object] | None"]
#: ``shutdown()``; awaited when awaitable.
ShutdownCallable: TypeAlias = Callable[[], "Awaitable[object] | None"]
#: A periodic task's callback; awaited when awaitable.
PeriodicCallable: TypeAlias = Callable[[], "Awaitable[object] | None"]

#: How long the coordinator waits for one daemon's ``shutdown()`` unless the entry says otherwise.
DEFAULT_SHUTDOWN_TIMEOUT = 5.0

_NAME = re.compile(r"[A-Za-z0-9_.\-]+")


def _seconds(value: object, *, field: str, owner: str, example: str) -> float:
    """``value`` as a float if it is a finite real number > 0, else a :class:`DaemonSpecError`."""
    fix = f"pass a positive number of seconds, e.g. {field}={example}"
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        kind = "a bool" if isinstance(value, bool) else type(value).__name__
        msg = f"{owner}: {field} must be a number of seconds, got {kind} {value!r}; {fix}"
        raise DaemonSpecError(msg, field=field)
    seconds = float(value)
    if not math.isfinite(seconds):
        msg = f"{owner}: {field} must be finite, got {value!r}; {fix}"
        raise DaemonSpecError(msg, field=field)
    if seconds <= 0:
        msg = f"{owner}: {field} must be > 0, got {value!r}; {fix}"
        raise DaemonSpecError(msg, field=field)
    return seconds


def _check_callable(value: object, *, field: str, owner: str, call: str, args: int) -> None:
    """Reject what the coordinator could not call as ``call`` with ``args`` positional args."""
    if inspect.iscoroutine(value):
        name = getattr(value, "__qualname__", "the function")
        # Close it so Python does not also warn that it was never awaited: the error says it all.
        value.close()
        msg = (
            f"{owner}: {field} is a coroutine object ({name}() was called); pass the function "
            f"itself, not its result: {field}={name}"
        )
        raise DaemonSpecError(msg, field=field)
    if not callable(value):
        msg = (
            f"{owner}: {field} must be callable as {call}, got {type(value).__name__} "
            f"{value!r}; pass a function or bound method"
        )
        raise DaemonSpecError(msg, field=field)
    try:
        signature = inspect.signature(value)
    except (TypeError, ValueError):  # some builtins have no signature: trust them
        return
    try:
        signature.bind(*([None] * args))
    except TypeError:
        need = "the coordinator as its one argument" if args else "no arguments"
        msg = f"{owner}: {field} {signature} cannot be called as {call}; it must accept {need}" + (
            ", e.g. def startup(self, coordinator=None)" if args else ""
        )
        raise DaemonSpecError(msg, field=field) from None


def _string(value: object, *, field: str, owner: str) -> str:
    if not isinstance(value, str):
        msg = f"{owner}: {field} must be a string, got {type(value).__name__} {value!r}"
        raise DaemonSpecError(msg, field=field)
    return value


def _callable_name(fn: object) -> str:
    name = getattr(fn, "__qualname__", None) or getattr(fn, "__name__", None)
    return name if isinstance(name, str) and name else type(fn).__qualname__


@dataclasses.dataclass(frozen=True)
class PeriodicTaskSpec:
    """A callback the coordinator fires every ``interval_seconds`` after startup.

    The driver sleeps one interval, then calls, so the first fire is one interval after all
    daemons started, never at once. An exception in the callback is logged and the next
    interval fires as usual.

    :param interval_seconds: a finite real number > 0 (``bool`` is rejected); stored as ``float``.
    :param callback: called with no arguments; sync or async.
    :param name: the task's name in logs and the timeline; empty means the callback's
        ``__qualname__``.
    :raises DaemonSpecError: a field broke its rule; ``field`` names it.
    """

    interval_seconds: float
    callback: PeriodicCallable
    name: str = ""

    def __post_init__(self) -> None:
        owner = f"periodic task {self.name!r}" if self.name else "periodic task"
        _check_callable(self.callback, field="callback", owner=owner, call="callback()", args=0)
        seconds = _seconds(
            self.interval_seconds, field="interval_seconds", owner=owner, example="60"
        )
        object.__setattr__(self, "interval_seconds", seconds)
        if not _string(self.name, field="name", owner=owner):
            object.__setattr__(self, "name", _callable_name(self.callback))


@dataclasses.dataclass(frozen=True)
class BackgroundDaemonEntry:
    """One daemon: lifecycle callbacks, an optional periodic task, and how to treat failures.

    :param name: unique in its registry; ASCII letters, digits, ``_``, ``-`` and ``.``.
    :param startup: ``startup(coordinator)``, sync or async, called in registration order.
    :param shutdown: ``shutdown()``, sync or async, called in reverse order.
    :param periodic_task: fired between startup and shutdown; ``None`` for event-driven daemons.
    :param shutdown_timeout: seconds the coordinator waits for ``shutdown()`` before moving on.
    :param plugin_name: the registering plugin; a plugin context stamps it.
    :param fatal_on_startup_failure: if ``startup`` raises, stop the whole run (exit non-zero)
        instead of logging it and starting the rest.
    :raises DaemonSpecError: a field broke its rule; ``field`` names it.
    """

    name: str
    startup: StartupCallable
    shutdown: ShutdownCallable
    periodic_task: PeriodicTaskSpec | None = None
    shutdown_timeout: float = DEFAULT_SHUTDOWN_TIMEOUT
    plugin_name: str = ""
    fatal_on_startup_failure: bool = False

    def __post_init__(self) -> None:
        if not _NAME.fullmatch(_string(self.name, field="name", owner="daemon")):
            msg = (
                f"daemon name {self.name!r} is invalid: use one or more ASCII letters, digits, "
                "'_', '-' or '.', e.g. 'email_inbound.imap'"
            )
            raise DaemonSpecError(msg, field="name")
        owner = f"daemon {self.name!r}"
        _check_callable(
            self.startup, field="startup", owner=owner, call="startup(coordinator)", args=1
        )
        _check_callable(self.shutdown, field="shutdown", owner=owner, call="shutdown()", args=0)
        task: object = self.periodic_task
        if task is not None and not isinstance(task, PeriodicTaskSpec):
            msg = (
                f"{owner}: periodic_task must be a PeriodicTaskSpec or None, got "
                f"{type(task).__name__}; wrap it: "
                "periodic_task=PeriodicTaskSpec(interval_seconds, callback)"
            )
            raise DaemonSpecError(msg, field="periodic_task")
        timeout = _seconds(
            self.shutdown_timeout, field="shutdown_timeout", owner=owner, example="5.0"
        )
        object.__setattr__(self, "shutdown_timeout", timeout)
        _string(self.plugin_name, field="plugin_name", owner=owner)
        fatal: object = self.fatal_on_startup_failure
        if not isinstance(fatal, bool):
            msg = f"{owner}: fatal_on_startup_failure must be True or False, got {fatal!r}"
            raise DaemonSpecError(msg, field="fatal_on_startup_failure")


def import_path(obj: object) -> tuple[str, str] | None:
    """``(__module__, __qualname__)`` of an object importable by that path, else ``None``.

    A bound method reports its function's path. Lambdas and nested functions (``<lambda>``,
    ``<locals>``) share paths with their siblings, so they have none.
    """
    module = getattr(obj, "__module__", None)
    qualname = getattr(obj, "__qualname__", None)
    if not isinstance(module, str) or not isinstance(qualname, str) or "<" in qualname:
        return None
    return module, qualname


def _same_callable(a: object, b: object) -> bool:
    if a is b or a == b:
        return True
    path = import_path(a)
    return path is not None and path == import_path(b)


def _differences(a: BackgroundDaemonEntry, b: BackgroundDaemonEntry) -> list[str]:
    fields = []
    if a.plugin_name != b.plugin_name:
        fields.append("plugin_name")
    for field in ("startup", "shutdown"):
        if not _same_callable(getattr(a, field), getattr(b, field)):
            fields.append(field)
    if a.shutdown_timeout != b.shutdown_timeout:
        fields.append("shutdown_timeout")
    if a.fatal_on_startup_failure != b.fatal_on_startup_failure:
        fields.append("fatal_on_startup_failure")
    ta, tb = a.periodic_task, b.periodic_task
    if (ta is None) != (tb is None) or (
        ta is not None
        and tb is not None
        and (
            ta.interval_seconds != tb.interval_seconds
            or ta.name != tb.name
            or not _same_callable(ta.callback, tb.callback)
        )
    ):
        fields.append("periodic_task")
    return fields


def same_daemon(a: BackgroundDaemonEntry, b: BackgroundDaemonEntry) -> bool:
    """Whether ``b`` is ``a`` registered again, as by a re-import or ``importlib.reload``.

    Two entries are the same daemon when they have the same name, ``plugin_name``,
    ``shutdown_timeout`` and ``fatal_on_startup_failure``, both or neither have a periodic task
    (then with the same interval and task name), and each pair of callbacks (startup, shutdown,
    periodic callback) is either equal under ``==`` (the same function, or bound methods of one
    instance) or has the same import path, ``__module__`` + ``__qualname__``, as a reloaded
    module's fresh functions do. Lambdas and nested functions have no import path, so they only
    match themselves.
    """
    return a.name == b.name and not _differences(a, b)


class BackgroundDaemonRegistry:
    """Daemons keyed by name, in registration order; safe to use from several threads.

    Each runtime owns one. Registering the *same* daemon again (see :func:`same_daemon`) is a
    no-op, so a module that registers at import can be re-imported or reloaded freely; a
    *different* daemon under a taken name is an error, because one of the two would silently
    never run.
    """

    def __init__(self) -> None:
        self._entries: dict[str, BackgroundDaemonEntry] = {}
        self._lock = threading.Lock()

    def register(self, entry: BackgroundDaemonEntry) -> BackgroundDaemonEntry:
        """Add ``entry``; return the entry now registered under its name.

        That is ``entry`` itself, or the existing entry when ``entry`` is the same daemon again.

        :raises DuplicateDaemonError: a different daemon already holds the name.
        :raises DaemonSpecError: ``entry`` is not a :class:`BackgroundDaemonEntry`.
        """
        checked: object = entry
        if not isinstance(checked, BackgroundDaemonEntry):
            msg = (
                f"register() needs a BackgroundDaemonEntry, got {type(checked).__name__}; "
                "build one: BackgroundDaemonEntry(name, startup, shutdown, ...)"
            )
            raise DaemonSpecError(msg, field="entry")
        with self._lock:
            existing = self._entries.setdefault(entry.name, entry)
        if existing is entry:
            return entry
        differences = _differences(existing, entry)
        if not differences:
            return existing
        raise _duplicate(existing, entry, differences)

    def unregister(self, name: str) -> BackgroundDaemonEntry | None:
        """Remove the daemon called ``name`` (to roll back a failed plugin); return it, if any."""
        with self._lock:
            return self._entries.pop(name, None)

    def list_entries(self) -> list[BackgroundDaemonEntry]:
        """Every entry in registration order, as a new list."""
        with self._lock:
            return list(self._entries.values())

    def by_name(self, name: str) -> BackgroundDaemonEntry | None:
        """The entry called ``name``, or ``None``."""
        with self._lock:
            return self._entries.get(name)

    def __len__(self) -> int:
        with self._lock:
            return len(self._entries)

    def __contains__(self, name: object) -> bool:
        with self._lock:
            return name in self._entries

    def __repr__(self) -> str:
        return f"<BackgroundDaemonRegistry {list(self._entries)!r}>"


def _duplicate(
    existing: BackgroundDaemonEntry, new: BackgroundDaemonEntry, differences: list[str]
) -> DuplicateDaemonError:
    held_by = existing.plugin_name or "<unknown>"
    claimed_by = new.plugin_name or "<unknown>"
    msg = (
        f"daemon name {new.name!r} is already registered by plugin {held_by!r}; plugin "
        f"{claimed_by!r} tried to register a different daemon under it (they differ in "
        f"{', '.join(differences)}). Daemon names must be unique: rename one, e.g. "
        f"{f'{claimed_by}.{new.name}'!r}."
    )
    callbacks = [existing.startup, existing.shutdown, new.startup, new.shutdown]
    if any(import_path(fn) is None for fn in callbacks):
        msg += (
            " If this is one module imported twice, define its callbacks at module level: "
            "lambdas and nested functions are only the same daemon as themselves."
        )
    return DuplicateDaemonError(msg, name=new.name, existing_owner=held_by, new_owner=claimed_by)


_default_registry: BackgroundDaemonRegistry | None = None
_default_lock = threading.Lock()


def background_daemon_registry() -> BackgroundDaemonRegistry:
    """The process-wide registry, created on first use.

    It exists for code written against the fork's ``agent.background_daemon_registry`` module,
    which registers at import time with no runtime at hand. New code registers through its
    plugin context, into the registry of the runtime that loads it.
    """
    global _default_registry  # noqa: PLW0603 - the one deliberate process default
    with _default_lock:
        if _default_registry is None:
            _default_registry = BackgroundDaemonRegistry()
        return _default_registry


def install_background_daemon_registry(
    registry: BackgroundDaemonRegistry | None,
) -> BackgroundDaemonRegistry | None:
    """Make ``registry`` the process default :func:`background_daemon_registry` returns.

    For a host that loads plugins repeatedly in one process and must not let one load's
    import-time registrations leak into the next (see ``compat.isolated_defaults``).

    :param registry: the new default; ``None`` makes a fresh one on next use.
    :returns: the default it replaces (``None`` if none had been made yet), to put back later.
    """
    global _default_registry
    with _default_lock:
        previous, _default_registry = _default_registry, registry
        return previous
