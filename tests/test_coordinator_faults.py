"""Contract 3.3 under faults: every started daemon is shut down exactly once, in reverse order,
each bounded by its timeout, whatever a plugin's code does.

The faults: a process-level exception (``SystemExit``, ``KeyboardInterrupt``, ``GeneratorExit``)
from a startup, a shutdown, a periodic callback or a task of the plugin's own; a startup that
never returns, stopped by a request, a signal or the end of the run; a shutdown that ignores
cancellation; a synchronous shutdown that blocks. Everything runs in virtual time, except the
synchronous shutdowns, which run on a worker thread and so are bounded in real time (tens of
milliseconds here), and the signals, which are real.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import os
import signal
import threading
import time
from collections.abc import Callable, Iterator
from typing import Any

import pytest

from reference_runtime._clock import RealClock, VirtualClock
from reference_runtime._coordinator import Coordinator
from reference_runtime._daemons import BackgroundDaemonEntry, PeriodicTaskSpec
from reference_runtime._timeline import (
    EXIT_FATAL,
    EXIT_INTERRUPTED,
    EXIT_OK,
    EventKind,
    TimelineEvent,
)

K = EventKind
PROCESS_LEVEL = [SystemExit(5), KeyboardInterrupt(), GeneratorExit()]


class Plant:
    """Daemons that journal their startups and shutdowns, some of them faulty."""

    def __init__(self) -> None:
        self.calls: list[str] = []

    def daemon(
        self,
        name: str,
        *,
        startup: Callable[..., Any] | None = None,
        shutdown: Callable[[], Any] | None = None,
        task: Callable[[], Any] | None = None,
        **options: Any,
    ) -> BackgroundDaemonEntry:
        async def start(coordinator: Any = None) -> None:
            self.calls.append(f"start {name}")

        async def stop() -> None:
            self.calls.append(f"stop {name}")

        periodic = PeriodicTaskSpec(10, task, f"{name}.task") if task is not None else None
        return BackgroundDaemonEntry(
            name, startup or start, shutdown or stop, periodic_task=periodic, **options
        )

    def stopped(self) -> list[str]:
        return [call.split()[1] for call in self.calls if call.startswith("stop ")]


def raising(exc: BaseException) -> Callable[..., Any]:
    async def fail(*args: Any, **kwargs: Any) -> None:
        raise exc

    return fail


def shutdown_events(coordinator: Coordinator) -> list[tuple[EventKind, str]]:
    stops = (K.SHUTDOWN_OK, K.SHUTDOWN_FAILED, K.SHUTDOWN_TIMEOUT)
    return [(e.kind, e.daemon) for e in coordinator.timeline if e.kind in stops]


def run_to_end(coordinator: Coordinator, until: float | None = None) -> BaseException | None:
    """Run under :meth:`Coordinator.run_sync` (bounded, never hangs); what it raised, if any."""
    try:
        coordinator.run_sync(until=until)
    except BaseException as exc:  # noqa: BLE001 - what the run re-raises is under test
        return exc
    return None


@pytest.fixture
def sigterm_handled() -> Iterator[None]:
    """Only where the coordinator can install signal handlers; the old handler is checked after."""
    if threading.current_thread() is not threading.main_thread():
        pytest.skip("signal handlers can only be installed from the main thread")
    before = signal.getsignal(signal.SIGTERM)
    yield
    assert signal.getsignal(signal.SIGTERM) is before


# --- process-level exceptions -----------------------------------------------------------------


@pytest.mark.parametrize("exc", PROCESS_LEVEL, ids=lambda e: type(e).__name__)
def test_a_process_level_exception_in_a_startup_is_fatal_and_unwinds_the_started(
    exc: BaseException,
) -> None:
    plant = Plant()
    entries = [
        plant.daemon("a"),
        plant.daemon("b"),
        plant.daemon("rogue", startup=raising(exc)),  # not even declared fatal
        plant.daemon("never"),
    ]
    coordinator = Coordinator(entries, clock=VirtualClock())

    raised = run_to_end(coordinator, until=60)

    assert type(raised) is type(exc)  # re-raised for the embedder, after the shutdowns
    assert plant.calls == ["start a", "start b", "stop b", "stop a"]
    failed = next(e for e in coordinator.timeline if e.kind is K.STARTUP_FAILED)
    assert (failed.daemon, failed.fatal) == ("rogue", True)
    assert failed.detail.startswith(type(exc).__name__)
    assert coordinator.exit_status == EXIT_FATAL  # the coordinator's choice, not the plugin's 5


@pytest.mark.parametrize("exc", PROCESS_LEVEL, ids=lambda e: type(e).__name__)
def test_a_process_level_exception_in_a_shutdown_does_not_skip_the_others(
    exc: BaseException,
) -> None:
    plant = Plant()
    entries = [plant.daemon("a"), plant.daemon("rogue", shutdown=raising(exc)), plant.daemon("c")]
    coordinator = Coordinator(entries, clock=VirtualClock())

    raised = run_to_end(coordinator, until=60)

    assert type(raised) is type(exc)
    assert plant.stopped() == ["c", "a"]
    assert shutdown_events(coordinator) == [
        (K.SHUTDOWN_OK, "c"),
        (K.SHUTDOWN_FAILED, "rogue"),
        (K.SHUTDOWN_OK, "a"),
    ]
    assert coordinator.exit_status == EXIT_FATAL


def test_a_synchronous_shutdown_raising_systemexit_does_not_skip_the_others() -> None:
    plant = Plant()

    def quit_() -> None:
        raise SystemExit(6)

    entries = [plant.daemon("a"), plant.daemon("rogue", shutdown=quit_)]
    coordinator = Coordinator(entries, clock=VirtualClock())

    assert isinstance(run_to_end(coordinator, until=1), SystemExit)
    assert shutdown_events(coordinator) == [(K.SHUTDOWN_FAILED, "rogue"), (K.SHUTDOWN_OK, "a")]


def test_systemexit_from_a_periodic_callback_ends_the_run_with_every_daemon_shut_down() -> None:
    plant = Plant()

    def quit_() -> None:
        raise SystemExit(8)

    entries = [plant.daemon("a"), plant.daemon("quitter", task=quit_), plant.daemon("c")]
    coordinator = Coordinator(entries, clock=VirtualClock())

    raised = run_to_end(coordinator, until=3_600)

    assert isinstance(raised, SystemExit)
    assert plant.stopped() == ["c", "quitter", "a"]
    failed = next(e for e in coordinator.timeline if e.kind is K.FIRE_FAILED)
    assert (failed.at, failed.task) == (10.0, "quitter.task")
    requested = next(e for e in coordinator.timeline if e.kind is K.SHUTDOWN_REQUESTED)
    assert requested.at == 10.0
    assert coordinator.exit_status == EXIT_FATAL


def test_systemexit_from_a_task_of_the_plugins_own_still_shuts_everything_down() -> None:
    plant = Plant()
    spawned: list[asyncio.Task[None]] = []

    async def quit_later(coordinator: Any = None) -> None:
        async def rogue() -> None:
            await coordinator.clock.sleep(30)
            raise SystemExit(5)

        spawned.append(asyncio.create_task(rogue()))

    entries = [plant.daemon("a"), plant.daemon("spawner", startup=quit_later)]
    coordinator = Coordinator(entries, clock=VirtualClock())

    raised = run_to_end(coordinator, until=3_600)

    assert isinstance(raised, SystemExit)
    assert plant.stopped() == ["spawner", "a"]
    requested = next(e for e in coordinator.timeline if e.kind is K.SHUTDOWN_REQUESTED)
    assert requested.at == 30.0
    assert coordinator.exit_status == EXIT_FATAL


# --- startups that never return ---------------------------------------------------------------


async def _forever(coordinator: Any = None) -> None:
    await asyncio.Event().wait()


def test_a_request_cancels_a_startup_that_never_returns_and_unwinds_the_started() -> None:
    plant = Plant()
    entries = [plant.daemon("a"), plant.daemon("stuck", startup=_forever), plant.daemon("never")]
    coordinator = Coordinator(entries, clock=VirtualClock())

    async def main() -> int:
        run = asyncio.create_task(coordinator.run())
        await coordinator.clock.sleep(5)
        coordinator.request_shutdown("operator")
        return await run

    assert asyncio.run(asyncio.wait_for(main(), 5)) == EXIT_OK
    assert plant.calls == ["start a", "stop a"]
    failed = next(e for e in coordinator.timeline if e.kind is K.STARTUP_FAILED)
    assert failed.daemon == "stuck"
    assert "cancelled" in failed.detail
    assert "operator" in failed.detail


def test_until_does_not_cut_a_startup_waiting_on_real_time_short() -> None:
    plant = Plant()

    async def slow(coordinator: Any = None) -> None:
        await asyncio.sleep(0.01)  # real time: the loop looks idle meanwhile
        plant.calls.append("start slow")

    entries = [plant.daemon("slow", startup=slow, task=lambda: None)]
    coordinator = Coordinator(entries, clock=VirtualClock())

    assert run_to_end(coordinator, until=35) is None
    assert plant.calls == ["start slow", "stop slow"]
    assert coordinator.fire_counts() == {"slow.task": 3}


def test_a_startup_that_ignores_cancellation_is_abandoned_after_a_grace() -> None:
    plant = Plant()

    async def stubborn(coordinator: Any = None) -> None:
        while True:
            try:
                await asyncio.Event().wait()
            except asyncio.CancelledError:
                continue

    async def stop_soon(coordinator: Any = None) -> None:
        async def request() -> None:
            await coordinator.clock.sleep(5)
            coordinator.request_shutdown("operator")

        background.append(asyncio.create_task(request()))

    background: list[asyncio.Task[None]] = []
    entries = [
        plant.daemon("a"),
        plant.daemon("requester", startup=stop_soon),
        plant.daemon("stubborn", startup=stubborn),
    ]
    coordinator = Coordinator(entries, clock=VirtualClock())

    started = time.perf_counter()
    assert run_to_end(coordinator) is None
    assert time.perf_counter() - started < 5
    assert plant.calls == ["start a", "stop requester", "stop a"]
    failed = next(e for e in coordinator.timeline if e.kind is K.STARTUP_FAILED)
    assert (failed.daemon, failed.at) == ("stubborn", 5.0 + 1.0)  # after the grace
    assert "ignored cancellation" in failed.detail
    assert [t.get_name() for t in coordinator.abandoned] == ["startup:stubborn"]


def test_sigterm_cancels_a_pending_startup_and_the_run_reports_the_interruption(
    sigterm_handled: None,
) -> None:
    plant = Plant()

    async def hang_after_sigterm(coordinator: Any = None) -> None:
        asyncio.get_running_loop().call_soon(os.kill, os.getpid(), signal.SIGTERM)
        await asyncio.Event().wait()

    entries = [
        plant.daemon("a"),
        plant.daemon("stuck", startup=hang_after_sigterm),
        plant.daemon("never"),
    ]
    coordinator = Coordinator(entries, clock=RealClock())

    assert run_to_end(coordinator) is None
    assert coordinator.exit_status == EXIT_INTERRUPTED
    assert plant.calls == ["start a", "stop a"]
    requested = next(e for e in coordinator.timeline if e.kind is K.SHUTDOWN_REQUESTED)
    assert requested.detail == "SIGTERM"


@pytest.mark.parametrize("signum", [signal.SIGINT, signal.SIGHUP], ids=lambda s: s.name)
def test_sigint_and_sighup_request_a_graceful_shutdown_on_a_virtual_clock_too(
    signum: signal.Signals, sigterm_handled: None
) -> None:
    plant = Plant()

    def send() -> None:
        os.kill(os.getpid(), signum)

    entries = [plant.daemon("a"), plant.daemon("b", task=send), plant.daemon("c")]
    coordinator = Coordinator(entries, clock=VirtualClock(), handle_signals=True)
    before = signal.getsignal(signum)

    assert run_to_end(coordinator, until=3_600) is None
    assert coordinator.exit_status == EXIT_OK  # after the startups: the normal way to stop
    assert plant.stopped() == ["c", "b", "a"]
    assert signal.getsignal(signum) is before


# --- shutdowns that do not finish -------------------------------------------------------------


def test_a_shutdown_that_ignores_cancellation_does_not_keep_run_sync_waiting() -> None:
    plant = Plant()

    async def stubborn() -> None:
        while True:
            try:
                await asyncio.Event().wait()
            except asyncio.CancelledError:
                continue

    entries = [plant.daemon("a"), plant.daemon("stubborn", shutdown=stubborn, shutdown_timeout=2)]
    coordinator = Coordinator(entries, clock=VirtualClock())

    started = time.perf_counter()
    assert coordinator.run_sync(until=10, leftover_grace=0.02) == EXIT_OK
    assert time.perf_counter() - started < 5
    assert shutdown_events(coordinator)[0][0] is K.SHUTDOWN_TIMEOUT
    assert plant.stopped() == ["a"]


def test_a_blocking_synchronous_shutdown_is_bounded_by_its_timeout_and_not_ok() -> None:
    plant = Plant()
    release = threading.Event()

    def blocks() -> None:
        release.wait(30)

    entries = [plant.daemon("a"), plant.daemon("blocks", shutdown=blocks, shutdown_timeout=0.05)]
    coordinator = Coordinator(entries, clock=VirtualClock())

    started = time.perf_counter()
    try:
        assert run_to_end(coordinator, until=10) is None
        elapsed = time.perf_counter() - started
        [thread] = coordinator.abandoned_threads
        assert thread.daemon  # cannot hold up the process's exit
        assert thread.is_alive()
    finally:
        release.set()
    assert elapsed < 2
    assert shutdown_events(coordinator) == [(K.SHUTDOWN_TIMEOUT, "blocks"), (K.SHUTDOWN_OK, "a")]
    timeout = next(e for e in coordinator.timeline if e.kind is K.SHUTDOWN_TIMEOUT)
    assert "0.05 s" in timeout.detail
    assert "abandoned" in timeout.detail
    assert timeout.at == 10.0  # virtual time stood still while the thread was waited for


def test_plugin_code_runs_on_the_loop_thread_except_synchronous_shutdowns() -> None:
    threads: dict[str, threading.Thread] = {}

    def note(what: str) -> Callable[..., None]:
        def record(*args: Any) -> None:
            threads[what] = threading.current_thread()

        return record

    async def async_shutdown() -> None:
        threads["async shutdown"] = threading.current_thread()

    entries = [
        BackgroundDaemonEntry(
            "sync", note("sync startup"), note("sync shutdown"), PeriodicTaskSpec(1, note("fire"))
        ),
        BackgroundDaemonEntry("async", note("other startup"), async_shutdown),
    ]
    coordinator = Coordinator(entries, clock=VirtualClock())
    assert run_to_end(coordinator, until=1) is None

    main = threading.main_thread()
    assert threads["sync startup"] is threads["fire"] is threads["async shutdown"] is main
    assert threads["sync shutdown"] is not main


def test_a_synchronous_shutdown_on_its_thread_reads_the_virtual_wall_clock() -> None:
    epoch = dt.datetime(2100, 6, 1, tzinfo=dt.timezone.utc)
    stamps: list[float] = []
    entry = BackgroundDaemonEntry(
        "stamper",
        lambda coordinator: None,  # type: ignore[arg-type,return-value]
        lambda: stamps.append(time.time()),  # type: ignore[arg-type,func-returns-value]
    )
    coordinator = Coordinator([entry], clock=VirtualClock(epoch=epoch, wall_clock=True))

    assert run_to_end(coordinator, until=3_600) is None
    assert stamps == [epoch.timestamp() + 3_600]


# --- the timeline as a stream -----------------------------------------------------------------


def test_events_can_be_streamed_instead_of_kept() -> None:
    plant = Plant()
    seen: list[TimelineEvent] = []
    entries = [plant.daemon("a", task=lambda: None)]
    coordinator = Coordinator(
        entries, clock=VirtualClock(), on_event=seen.append, keep_timeline=False
    )

    assert run_to_end(coordinator, until=100) is None
    assert coordinator.timeline == ()
    assert [e.kind for e in seen].count(K.FIRE_OK) == 10
    assert seen[0] == TimelineEvent(K.STARTUP_OK, 0.0, "a")
    assert seen[-1] == TimelineEvent(K.SHUTDOWN_OK, 100.0, "a")


def test_a_raising_event_sink_is_dropped_and_the_run_goes_on(
    caplog: pytest.LogCaptureFixture,
) -> None:
    plant = Plant()

    def sink(event: TimelineEvent) -> None:
        msg = "disk full"
        raise OSError(msg)

    coordinator = Coordinator([plant.daemon("a")], clock=VirtualClock(), on_event=sink)
    assert run_to_end(coordinator, until=10) is None
    assert plant.calls == ["start a", "stop a"]
    assert "disk full" in caplog.text


# --- the run itself interrupted ---------------------------------------------------------------


def test_a_second_cancellation_during_the_shutdowns_still_shuts_every_daemon_down() -> None:
    plant = Plant()
    box: list[asyncio.Task[int]] = []

    async def slow_stop() -> None:
        box[0].cancel()  # cancelled again, while shutting down
        await coordinator.clock.sleep(1)
        plant.calls.append("stop slow")

    entries = [plant.daemon("a"), plant.daemon("slow", shutdown=slow_stop), plant.daemon("c")]
    coordinator = Coordinator(entries, clock=VirtualClock())

    async def main() -> None:
        box.append(asyncio.create_task(coordinator.run()))
        await coordinator.clock.sleep(10)
        box[0].cancel()
        with pytest.raises(asyncio.CancelledError):
            await box[0]

    asyncio.run(asyncio.wait_for(main(), 5))
    assert plant.stopped() == ["c", "slow", "a"]  # exactly once each, in reverse


def test_a_run_longer_than_the_virtual_wall_clock_can_go_fails_after_the_shutdowns() -> None:
    plant = Plant()
    coordinator = Coordinator([plant.daemon("a")], clock=VirtualClock(wall_clock=True))

    raised = run_to_end(coordinator, until=1e300)

    assert isinstance(raised, ValueError)
    assert "past the virtual wall clock's range" in str(raised)
    assert plant.calls == ["start a", "stop a"]
    assert coordinator.exit_status == EXIT_FATAL


def test_a_periodic_callback_that_ignores_cancellation_does_not_hold_up_the_shutdowns() -> None:
    plant = Plant()

    async def stubborn() -> None:
        while True:
            try:
                await asyncio.Event().wait()
            except asyncio.CancelledError:
                continue

    entries = [plant.daemon("a"), plant.daemon("stubborn", task=stubborn)]
    coordinator = Coordinator(entries, clock=VirtualClock())

    started = time.perf_counter()
    assert coordinator.run_sync(until=30, leftover_grace=0.02) == EXIT_OK
    assert time.perf_counter() - started < 5
    assert plant.stopped() == ["stubborn", "a"]
    cancelled = next(e for e in coordinator.timeline if e.kind is K.DRIVERS_CANCELLED)
    assert cancelled.at == 30.0 + 1.0  # after the grace
    assert [t.get_name() for t in coordinator.abandoned] == ["periodic:stubborn.task"]
