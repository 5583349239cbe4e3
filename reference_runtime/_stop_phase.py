"""The stop phase of a coordinator's run (phase 4): drivers cancelled, then each started daemon
shut down once, in reverse start order, each bounded by its timeout.

Mixed into :class:`~reference_runtime.Coordinator`. Its public methods are phase hooks a fork's
coordinator may override (:meth:`StopPhase.shutdown_order`, say); whatever a shutdown does
(hang, raise, ignore cancellation), the others still run and the phase never raises.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Sequence
from typing import TYPE_CHECKING

from ._fire import StartedDaemon
from ._timeline import EventKind, Recorder, describe
from ._waits import CANCEL_GRACE, Waits, is_process_level, unwrap

__all__ = ["StopPhase"]

_log = logging.getLogger("reference_runtime.daemons")


class StopPhase:
    """The stop phase; expects the coordinator's started daemons, drivers, waits, recorder and
    its way to escalate a process-level exception (``_escape``)."""

    if TYPE_CHECKING:  # provided by the class this is mixed into
        _started: list[StartedDaemon]
        _drivers: list[asyncio.Task[None]] | None
        _waits: Waits
        _recorder: Recorder

        def _escape(self, exc: BaseException, reason: str) -> None: ...

    def shutdown_order(self, started: Sequence[StartedDaemon]) -> list[StartedDaemon]:
        """The order the stop phase shuts ``started`` (in start order) down in: the reverse."""
        return list(reversed(started))

    async def stop_all(self) -> None:
        """The stop phase (phase 4): :meth:`cancel_drivers`, then :meth:`stop_daemons`."""
        await self.cancel_drivers()
        await self.stop_daemons()

    async def cancel_drivers(self) -> None:
        """Cancel every periodic driver and wait for them to unwind, for a grace at most; one
        whose callback ignores cancellation is abandoned. A no-op without drivers."""
        if self._drivers is None:
            return
        drivers, self._drivers = self._drivers, None
        for driver in drivers:
            driver.cancel()
        # A callback that ignores cancellation must not hold up the shutdowns: a grace, then
        # its driver is abandoned.
        unwound = asyncio.gather(*drivers, return_exceptions=True)
        if not await self._waits.race(unwound, CANCEL_GRACE):
            self._waits.abandoned += [driver for driver in drivers if not driver.done()]
        self._recorder.record(EventKind.DRIVERS_CANCELLED, detail=f"{len(drivers)} periodic tasks")

    async def stop_daemons(self) -> None:
        """Shut every started daemon down once, in :meth:`shutdown_order`, each bounded by its
        timeout; one that hangs or raises is recorded and the rest still run. Never raises."""
        for daemon in self.shutdown_order(tuple(self._started)):
            # Off the list before its shutdown runs: whatever happens, it is shut down once.
            self._started = [d for d in self._started if d is not daemon]
            await self._stop_one(daemon)

    async def _stop_one(self, daemon: StartedDaemon) -> None:
        """Shut ``daemon`` down, bounded by its timeout; record how it went. Never raises."""
        name = daemon.name
        try:
            outcome = await self._waits.shut_down(daemon)
        except BaseException as exc:  # noqa: BLE001 - the other daemons must still shut down
            error = unwrap(exc)
            if isinstance(error, asyncio.CancelledError):
                outcome = "shutdown cancelled itself"
            else:
                _log.warning(
                    "daemon %r failed to shut down: %s", name, describe(error), exc_info=error
                )
                self._recorder.record(
                    EventKind.SHUTDOWN_FAILED, daemon=name, detail=describe(error)
                )
                if is_process_level(error):
                    self._escape(error, f"{type(error).__name__} from the shutdown of {name!r}")
                return
        if outcome is not None:
            _log.warning("daemon %r: %s; moving on", name, outcome)
            self._recorder.record(EventKind.SHUTDOWN_TIMEOUT, daemon=name, detail=outcome)
            return
        self._recorder.record(EventKind.SHUTDOWN_OK, daemon=name)
