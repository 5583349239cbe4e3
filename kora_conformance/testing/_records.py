"""What the host's round trips return: a request as it reached the wire, a daemon run's record."""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from typing import Any

from kora_conformance.harness._wire import system_texts
from reference_runtime import EventKind, ReasoningEngine, TimelineEvent

__all__ = ["DaemonRun", "WireCapture"]


@dataclasses.dataclass(frozen=True)
class WireCapture:
    """One Messages API request the engine made, as it reached the (mocked) wire.

    :ivar request: the request's JSON body.
    :ivar engine: the engine that sent it (``engine.identity`` says who supplied the identity).
    :ivar response: what the engine's ``send`` returned (the canned reply).
    """

    request: dict[str, Any]
    engine: ReasoningEngine
    response: Any

    @property
    def system(self) -> list[str]:
        """The texts of the request's ``system`` content, in order (persona, then prompt)."""
        return system_texts(self.request.get("system"))

    @property
    def messages(self) -> list[Any]:
        """The request's ``messages``."""
        messages = self.request.get("messages")
        return list(messages) if isinstance(messages, list) else []


@dataclasses.dataclass(frozen=True)
class DaemonRun:
    """A virtual-time run of the runtime's daemons under the reference coordinator.

    :ivar seconds: the virtual seconds run.
    :ivar timeline: everything that happened, in order.
    :ivar exit_status: 0, or non-zero after a fatal startup failure.
    :ivar error: what ended the run early, raised from a daemon (``SystemExit``, say).
    """

    seconds: float
    timeline: tuple[TimelineEvent, ...]
    exit_status: int
    fire_counts: Mapping[str, int]
    error: BaseException | None = None

    def events(self, *kinds: EventKind | str) -> list[TimelineEvent]:
        """The events of ``kinds`` (all of them when none is given), in order."""
        wanted = {EventKind(kind) for kind in kinds}
        return [e for e in self.timeline if not wanted or e.kind in wanted]

    def fires(self, task: str | None = None) -> list[float]:
        """When periodic tasks fired (successfully or not), in virtual seconds; ``task`` to
        narrow to one task's fires."""
        kinds = {EventKind.FIRE_OK, EventKind.FIRE_FAILED}
        return [e.at for e in self.timeline if e.kind in kinds and (task is None or e.task == task)]

    def failures(self) -> list[TimelineEvent]:
        """Failed startups, fires and shutdowns, and shutdowns that timed out."""
        return self.events(
            EventKind.STARTUP_FAILED,
            EventKind.FIRE_FAILED,
            EventKind.SHUTDOWN_FAILED,
            EventKind.SHUTDOWN_TIMEOUT,
        )
