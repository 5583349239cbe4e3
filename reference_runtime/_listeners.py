"""The listener side, and the helper for listeners that live on both sides.

The Kora fork runs its daemons from a *listener registry*: a name maps to a factory returning the
listener's ``startup``, ``shutdown`` and optionally a shutdown timeout, and periodic work runs
on a listener-side scheduler. Hermes consumers read the background daemon registry instead. A
listener ported to both keeps **one** instance for the process and hands its bound methods to
both registries, so whichever consumer starts it, the state it set up is the state it tears down.

:class:`DaemonListener` and :class:`DualRegistration` (or :func:`register_dual_listener`) make
that shape hard to get wrong:

- ``Listener.instance()`` is the process-wide singleton, kept by import path, so an
  ``importlib.reload`` of the defining module or a second import gets the same object back;
- ``startup(coordinator=None)`` is checked when the class is created, so all three call forms
  (none, positional, keyword) work;
- the entry carries the one primary periodic task; the listener side knows every task, and the
  coordinator schedules a task known to both sides once.

A *pure-periodic* daemon (no-op startup and shutdown, only a periodic task) needs none of this:
register a :class:`~reference_runtime.BackgroundDaemonEntry` on the daemon side only.
"""

from __future__ import annotations

import dataclasses
import inspect
import threading
from collections.abc import Callable, Mapping
from typing import Any, TypeAlias, TypeVar, cast

from ._daemons import (
    DaemonHost,
    PeriodicTaskSpec,
    ShutdownCallable,
    StartupCallable,
    _check_callable,
    _seconds,
    import_path,
)
from ._errors import DaemonSpecError

__all__ = [
    "DEFAULT_LISTENER_SHUTDOWN_TIMEOUT",
    "DaemonListener",
    "ListenerFactory",
    "ListenerRegistry",
    "ListenerTask",
    "ResolvedListener",
    "install_listener_defaults",
    "listener_registry",
]

#: The timeout a two-item factory result gets: the fork's listener-side default.
DEFAULT_LISTENER_SHUTDOWN_TIMEOUT = 10.0

#: ``factory()`` → ``(startup, shutdown)`` or ``(startup, shutdown, shutdown_timeout)``.
ListenerFactory: TypeAlias = Callable[
    [],
    "tuple[StartupCallable, ShutdownCallable] | tuple[StartupCallable, ShutdownCallable, float]",
]

_L = TypeVar("_L", bound="DaemonListener")


def _listener_name(name: object) -> str:
    if not isinstance(name, str) or not name.isidentifier():
        msg = (
            f"listener name {name!r} is invalid: it must be a Python identifier (letters, "
            "digits and '_', not starting with a digit), e.g. 'email_inbound'"
        )
        raise DaemonSpecError(msg, field="name")
    return name


@dataclasses.dataclass(frozen=True)
class ResolvedListener:
    """What a listener's factory returned, validated."""

    name: str
    startup: StartupCallable
    shutdown: ShutdownCallable
    shutdown_timeout: float


@dataclasses.dataclass(frozen=True)
class ListenerTask:
    """A periodic task on the listener side, and the listener it belongs to (``""``: none)."""

    spec: PeriodicTaskSpec
    listener: str = ""


class ListenerRegistry:
    """Listener factories and listener-side periodic tasks, by name, in registration order.

    Unlike the daemon registry, registering a taken name **replaces** the old registration
    (and moves it last): that is the fork's semantics, and what its reloading code relies on.
    A runtime's plugin contexts refuse a name another plugin holds before it gets here.
    """

    def __init__(self) -> None:
        self._factories: dict[str, ListenerFactory] = {}
        self._tasks: dict[str, ListenerTask] = {}
        self._lock = threading.Lock()

    def register(self, name: str, factory: ListenerFactory) -> ListenerFactory | None:
        """Register (or replace) the listener ``name``; return the factory it replaced, if any.

        :raises DaemonSpecError: ``name`` is not an identifier or ``factory`` is not callable.
        """
        _listener_name(name)
        checked: object = factory
        if not callable(checked):
            msg = (
                f"listener {name!r}: factory must be callable and return (startup, shutdown[, "
                f"shutdown_timeout]), got {type(checked).__name__}; wrap it: lambda: (...)"
            )
            raise DaemonSpecError(msg, field="factory")
        with self._lock:
            replaced = self._factories.pop(name, None)
            self._factories[name] = factory
        return replaced

    def unregister(self, name: str) -> ListenerFactory | None:
        """Remove the listener ``name``; return its factory, if it had one."""
        with self._lock:
            return self._factories.pop(name, None)

    def factory(self, name: str) -> ListenerFactory | None:
        """The factory registered under ``name``, if any."""
        with self._lock:
            return self._factories.get(name)

    def names(self) -> list[str]:
        """Listener names in registration order."""
        with self._lock:
            return list(self._factories)

    def resolve(self, name: str) -> ResolvedListener:
        """Call ``name``'s factory and validate the result.

        :raises KeyError: no listener is called ``name``.
        :raises DaemonSpecError: the factory raised (the cause is chained) or returned something
            other than ``(startup, shutdown[, shutdown_timeout])``.
        """
        with self._lock:
            factory = self._factories.get(name)
            known = list(self._factories)
        if factory is None:
            msg = f"no listener is registered as {name!r}; registered: {known!r}"
            raise KeyError(msg)
        owner = f"listener {name!r}"
        try:
            result: object = factory()
        except Exception as exc:
            msg = f"{owner}: its factory raised {type(exc).__name__}: {exc}"
            raise DaemonSpecError(msg, field="factory") from exc
        if not isinstance(result, tuple):
            msg = (
                f"{owner}: its factory must return a tuple (startup, shutdown[, "
                f"shutdown_timeout]), got {type(result).__name__}"
            )
            raise DaemonSpecError(msg, field="factory")
        if len(result) not in (2, 3):
            msg = (
                f"{owner}: its factory returned {len(result)} items; return 2 or 3: "
                "(startup, shutdown) or (startup, shutdown, shutdown_timeout)"
            )
            raise DaemonSpecError(msg, field="factory")
        startup, shutdown, *rest = result
        _check_callable(startup, field="startup", owner=owner, call="startup(coordinator)", args=1)
        _check_callable(shutdown, field="shutdown", owner=owner, call="shutdown()", args=0)
        timeout = (
            _seconds(rest[0], field="shutdown_timeout", owner=owner, example="10.0")
            if rest
            else DEFAULT_LISTENER_SHUTDOWN_TIMEOUT
        )
        return ResolvedListener(name, startup, shutdown, timeout)

    def register_task(self, spec: PeriodicTaskSpec, *, listener: str = "") -> ListenerTask | None:
        """Register (or replace, by ``spec.name``) a listener-side periodic task.

        :param listener: the listener the task belongs to; the coordinator runs the task only
            if that listener started. ``""`` for a task of no listener.
        :returns: the task it replaced, if any.
        """
        checked: object = spec
        if not isinstance(checked, PeriodicTaskSpec):
            msg = f"register_task() needs a PeriodicTaskSpec, got {type(checked).__name__}"
            raise DaemonSpecError(msg, field="periodic_task")
        with self._lock:
            replaced = self._tasks.pop(spec.name, None)
            self._tasks[spec.name] = ListenerTask(spec, listener)
        return replaced

    def unregister_task(self, name: str) -> ListenerTask | None:
        """Remove the listener-side task called ``name``; return it, if any."""
        with self._lock:
            return self._tasks.pop(name, None)

    def tasks(self) -> list[ListenerTask]:
        """Listener-side periodic tasks in registration order."""
        with self._lock:
            return list(self._tasks.values())

    def __len__(self) -> int:
        with self._lock:
            return len(self._factories)

    def __contains__(self, name: object) -> bool:
        with self._lock:
            return name in self._factories

    def __repr__(self) -> str:
        return f"<ListenerRegistry {list(self._factories)!r}>"


_default_listeners: ListenerRegistry | None = None
_singletons: dict[object, DaemonListener] = {}
# Re-entrant: a listener's __init__ may ask for another listener's instance.
_lock = threading.RLock()


def listener_registry() -> ListenerRegistry:
    """The process-wide listener registry (the fork's ``LISTENER_REGISTRY``), made on first use."""
    global _default_listeners  # noqa: PLW0603 - the one deliberate process default
    with _lock:
        if _default_listeners is None:
            _default_listeners = ListenerRegistry()
        return _default_listeners


def install_listener_defaults(
    registry: ListenerRegistry | None, singletons: Mapping[object, DaemonListener] | None = None
) -> tuple[ListenerRegistry | None, dict[object, DaemonListener]]:
    """Make ``registry`` the process default :func:`listener_registry` returns, and
    ``singletons`` the instances :meth:`DaemonListener.instance` hands out.

    For a host that loads plugins repeatedly in one process (see ``compat.isolated_defaults``).

    :param registry: the new default; ``None`` makes a fresh one on next use.
    :param singletons: the listener instances by class, copied; ``None`` means none yet.
    :returns: the default registry it replaces (``None`` if none had been made yet) and a copy
        of the singletons it replaces, to put back later.
    """
    global _default_listeners  # noqa: PLW0603 - the one deliberate process default
    with _lock:
        previous = _default_listeners, dict(_singletons)
        _default_listeners = registry
        _singletons.clear()
        _singletons.update(singletons or {})
        return previous


class DaemonListener:
    """Base class for a listener that lives in both registries.

    Override :meth:`startup` and :meth:`shutdown` (sync or async); keep ``coordinator`` optional,
    which is checked when the subclass is created. Get the instance with :meth:`instance`.
    """

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        try:
            signature = inspect.signature(cls.startup)
        except (TypeError, ValueError):  # pragma: no cover - a builtin in a Python class
            return
        parameter = signature.parameters.get("coordinator")
        try:
            signature.bind(None)
            signature.bind(None, None)
            signature.bind(None, coordinator=None)
        except TypeError:
            parameter = None
        if parameter is None or parameter.default is inspect.Parameter.empty:
            msg = (
                f"{cls.__qualname__}.startup{signature} must accept the coordinator "
                "positionally, by keyword and not at all: declare "
                "def startup(self, coordinator=None)"
            )
            raise DaemonSpecError(msg, field="startup")

    @classmethod
    def instance(cls: type[_L]) -> _L:
        """The process-wide instance of this listener, created on first use.

        It is kept by the class's import path, so a reloaded or re-imported module gets the
        existing instance (state and all) instead of a second one. After a reload that instance
        is of the class as first defined.
        """
        key = import_path(cls) or cls
        with _lock:
            existing = _singletons.get(key)
            if existing is None:
                existing = _singletons[key] = cls()
        return cast("_L", existing)

    async def startup(self, coordinator: DaemonHost | None = None) -> None:
        """Start; ``coordinator`` is ``None`` when a listener-side consumer calls it bare."""
        return

    async def shutdown(self) -> None:
        """Stop, releasing what :meth:`startup` acquired."""
        return
