"""The probes' journal: what a runtime did to the kit's probe plugins, in order.

Probe plugins append an :class:`Event` whenever the runtime calls into them (``register``, an
identity provider, a hook callback, a daemon's ``startup``/``shutdown``, a periodic fire); the
runtime checks clear the journal when they start and read it afterwards. The module is plain
standard library, so a fork's runtime can load the probes that import it.

It survives a probe's re-import: the kit's sandbox drops the probes' own modules after each
check but keeps the kit's already-imported modules, this one included.
"""

from __future__ import annotations

import dataclasses
import threading
import time
from collections.abc import Mapping
from typing import Any

__all__ = ["Event", "clear", "events", "record"]


@dataclasses.dataclass(frozen=True)
class Event:
    """One call the runtime made into a probe.

    :param kind: what happened, e.g. ``register``, ``identity``, ``startup``, ``fire``.
    :param who: the probe plugin or daemon concerned.
    :param at: ``time.time()`` when it happened (virtual wall-clock time while a coordinator
        runs on a virtual clock that moves it).
    :param data: what the probe saw, e.g. the ``engine`` keyword its provider received.
    """

    kind: str
    who: str
    at: float
    data: Mapping[str, Any] = dataclasses.field(default_factory=dict)

    def describe(self, start: float) -> str:
        """One line for a failure's detail: time since ``start``, kind, who."""
        return f"t=+{self.at - start:.3f}s {self.kind} {self.who}"


_lock = threading.Lock()
_events: list[Event] = []


def record(kind: str, who: str, **data: Any) -> None:
    """Append an event; safe from any thread."""
    event = Event(kind, who, time.time(), data)
    with _lock:
        _events.append(event)


def clear() -> None:
    """Forget every event (each runtime check starts with an empty journal)."""
    with _lock:
        _events.clear()


def events(kind: str | None = None, who: str | None = None) -> list[Event]:
    """The events so far, in order, optionally only those of ``kind`` and/or ``who``."""
    with _lock:
        found = list(_events)
    return [e for e in found if (kind is None or e.kind == kind) and (who is None or e.who == who)]
