"""What a coordinator's run records: exit statuses, timeline events, and the recorder.

Every startup, fire and shutdown of a run becomes a :class:`TimelineEvent`, stamped with clock
seconds since the run began. A :class:`Recorder` keeps them, streams them to a callback, or both;
a callback that raises is logged and called no more, so an observer can never break a run.
"""

from __future__ import annotations

import dataclasses
import enum
import logging
from collections.abc import Callable
from typing import Final

from ._clock import Clock

__all__ = [
    "EXIT_FATAL",
    "EXIT_INTERRUPTED",
    "EXIT_OK",
    "EventKind",
    "Recorder",
    "TimelineEvent",
    "describe",
]

_log = logging.getLogger("reference_runtime.daemons")

#: The run went as asked: every startup that matters completed, and it stopped on request, on a
#: signal once the startups were done, or at ``until``.
EXIT_OK: Final = 0
#: A fatal startup failure, or a process-level exception (``SystemExit``...) from plugin code.
EXIT_FATAL: Final = 1
#: A signal stopped the run while daemons were still starting.
EXIT_INTERRUPTED: Final = 3


def describe(exc: BaseException) -> str:
    """``Type: message``, as events and logs name an error."""
    return f"{type(exc).__name__}: {exc}"


class EventKind(str, enum.Enum):
    """What a :class:`TimelineEvent` records."""

    STARTUP_OK = "startup_ok"
    STARTUP_FAILED = "startup_failed"
    DRIVERS_STARTED = "drivers_started"
    FIRE_OK = "fire_ok"
    FIRE_FAILED = "fire_failed"
    SHUTDOWN_REQUESTED = "shutdown_requested"
    DRIVERS_CANCELLED = "drivers_cancelled"
    SHUTDOWN_OK = "shutdown_ok"
    SHUTDOWN_TIMEOUT = "shutdown_timeout"
    SHUTDOWN_FAILED = "shutdown_failed"


@dataclasses.dataclass(frozen=True, slots=True)
class TimelineEvent:
    """One thing that happened during a run.

    :ivar kind: what happened.
    :ivar at: clock seconds since the run began (virtual seconds on a virtual clock).
    :ivar daemon: the daemon or listener concerned; empty for run-wide events.
    :ivar task: the periodic task's name, for fires.
    :ivar detail: the error (``Type: message``), the shutdown reason, or the driver count.
    :ivar fatal: for a startup failure, whether it ended the run.
    """

    kind: EventKind
    at: float
    daemon: str = ""
    task: str = ""
    detail: str = ""
    fatal: bool = False

    def as_dict(self) -> dict[str, object]:
        """A JSON-ready mapping."""
        return {
            "kind": self.kind.value,
            "at": self.at,
            "daemon": self.daemon,
            "task": self.task,
            "detail": self.detail,
            "fatal": self.fatal,
        }


class Recorder:
    """Stamps and keeps a run's events.

    :param clock: the run's clock; events are stamped relative to :meth:`begin`.
    :param keep: keep every event in :attr:`events`.
    :param sink: called with each event as it is recorded; one that raises is logged and
        dropped.
    """

    def __init__(
        self, clock: Clock, *, keep: bool, sink: Callable[[TimelineEvent], object] | None
    ) -> None:
        self._clock = clock
        self._keep = keep
        self._sink = sink
        self._events: list[TimelineEvent] = []
        self._t0: float | None = None

    @property
    def t0(self) -> float | None:
        """The clock time the run began at; ``None`` before :meth:`begin`."""
        return self._t0

    @property
    def events(self) -> tuple[TimelineEvent, ...]:
        """Every event kept so far, in order."""
        return tuple(self._events)

    def begin(self) -> None:
        """Mark the start of the run: later events are stamped from now."""
        self._t0 = self._clock.now()

    def record(
        self,
        kind: EventKind,
        *,
        daemon: str = "",
        task: str = "",
        detail: str = "",
        fatal: bool = False,
    ) -> None:
        """Stamp an event, keep it (if keeping) and hand it to the sink. Never raises."""
        at = 0.0 if self._t0 is None else self._clock.now() - self._t0
        event = TimelineEvent(kind, at, daemon, task, detail, fatal)
        if self._keep:
            self._events.append(event)
        sink = self._sink
        if sink is not None:
            try:
                sink(event)
            except Exception as exc:  # noqa: BLE001 - a broken sink must not break the run
                self._sink = None
                _log.warning(
                    "the coordinator's on_event callback raised %s; it gets no further events",
                    describe(exc),
                    exc_info=exc,
                )
