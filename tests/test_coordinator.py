"""The coordinator's lifecycle and periodic drivers (contract 3.3), in virtual time."""

from __future__ import annotations

import asyncio
import datetime as dt
import math
import os
import signal
import threading
import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import pytest

from reference_runtime._clock import RealClock, VirtualClock
from reference_runtime._coordinator import Coordinator
from reference_runtime._daemons import (
    BackgroundDaemonEntry,
    BackgroundDaemonRegistry,
    PeriodicTaskSpec,
)
from reference_runtime._dual import register_dual_listener
from reference_runtime._errors import DaemonSpecError
from reference_runtime._listeners import (
    DaemonListener,
    ListenerRegistry,
)
from reference_runtime._loading import _import_directory
from reference_runtime._timeline import EventKind, TimelineEvent

REPO_ROOT = Path(__file__).resolve().parents[1]
K = EventKind


class Journal:
    """Records lifecycle calls and builds daemons that write to it."""

    def __init__(self) -> None:
        self.calls: list[str] = []

    def daemon(
        self,
        name: str,
        *,
        interval: float | None = None,
        callback: Callable[[], Any] | None = None,
        startup: Callable[[Any], Awaitable[None]] | None = None,
        shutdown: Callable[[], Awaitable[None]] | None = None,
        **options: Any,
    ) -> BackgroundDaemonEntry:
        async def default_startup(coordinator: Any = None) -> None:
            self.calls.append(f"start {name}")

        async def default_shutdown() -> None:
            self.calls.append(f"stop {name}")

        def default_callback() -> None:
            self.calls.append(f"fire {name}")

        task = None
        if interval is not None:
            task = PeriodicTaskSpec(interval, callback or default_callback, f"{name}.task")
        return BackgroundDaemonEntry(
            name,
            startup or default_startup,
            shutdown or default_shutdown,
            periodic_task=task,
            **options,
        )


def run(coordinator: Coordinator, until: float | None = None) -> int:
    """Run to the end and check that nothing was left pending on the loop."""

    async def main() -> int:
        status = await coordinator.run(until=until)
        assert asyncio.all_tasks() == {asyncio.current_task()}
        return status

    return asyncio.run(main())


def kinds(coordinator: Coordinator) -> list[tuple[EventKind, str]]:
    return [(e.kind, e.daemon) for e in coordinator.timeline if e.kind not in (K.FIRE_OK,)]


def fire_times(coordinator: Coordinator, task: str | None = None) -> list[float]:
    return [
        e.at
        for e in coordinator.timeline
        if e.kind in (K.FIRE_OK, K.FIRE_FAILED) and task in (None, e.task)
    ]


# --- periodic drivers -------------------------------------------------------------------------


def test_first_fire_comes_after_one_interval_never_at_start() -> None:
    journal = Journal()
    coordinator = Coordinator([journal.daemon("a", interval=60)], clock=VirtualClock())
    assert run(coordinator, until=59) == 0
    assert fire_times(coordinator) == []

    coordinator = Coordinator([journal.daemon("a", interval=60)], clock=VirtualClock())
    run(coordinator, until=60)
    assert fire_times(coordinator) == [60.0]


def test_n_intervals_give_exactly_n_fires_at_the_right_times() -> None:
    coordinator = Coordinator([Journal().daemon("a", interval=7)], clock=VirtualClock())
    run(coordinator, until=7 * 50)
    assert fire_times(coordinator) == [7.0 * n for n in range(1, 51)]
    assert coordinator.fire_counts() == {"a.task": 50}


def test_a_raising_callback_keeps_firing() -> None:
    calls = 0

    def flaky() -> None:
        nonlocal calls
        calls += 1
        if calls % 2:
            msg = f"failure {calls}"
            raise RuntimeError(msg)

    coordinator = Coordinator(
        [Journal().daemon("a", interval=10, callback=flaky)], clock=VirtualClock()
    )
    assert run(coordinator, until=100) == 0
    failed = [e for e in coordinator.timeline if e.kind is K.FIRE_FAILED]
    assert calls == 10
    assert [e.at for e in failed] == [10, 30, 50, 70, 90]
    assert "RuntimeError: failure 1" in failed[0].detail
    assert coordinator.fire_counts() == {"a.task": 10}


def test_sync_and_async_callbacks_both_fire() -> None:
    fired: list[str] = []

    def sync_cb() -> None:
        fired.append("sync")

    async def async_cb() -> None:
        for _ in range(20):  # a fire that takes many turns of the loop, even at the deadline
            await asyncio.sleep(0)
        fired.append("async")

    coordinator = Coordinator(
        [
            Journal().daemon("s", interval=5, callback=sync_cb),
            Journal().daemon("a", interval=5, callback=async_cb),
        ],
        clock=VirtualClock(),
    )
    run(coordinator, until=15)
    assert sorted(fired) == ["async"] * 3 + ["sync"] * 3


def test_drivers_start_after_the_last_startup_and_stop_before_the_first_shutdown() -> None:
    journal = Journal()
    coordinator_box: list[Coordinator] = []

    async def slow_startup(coordinator: Any = None) -> None:
        await coordinator.clock.sleep(100)
        journal.calls.append("start slow")

    async def slow_shutdown() -> None:
        await coordinator_box[0].clock.sleep(50)
        journal.calls.append("stop slow")

    coordinator = Coordinator(
        [
            journal.daemon("ticker", interval=10),
            journal.daemon(
                "slow", startup=slow_startup, shutdown=slow_shutdown, shutdown_timeout=60
            ),
        ],
        clock=VirtualClock(),
    )
    coordinator_box.append(coordinator)
    run(coordinator, until=150)

    assert fire_times(coordinator) == [110.0, 120.0, 130.0, 140.0, 150.0]
    assert journal.calls.index("start slow") < journal.calls.index("fire ticker")
    assert journal.calls[-2:] == ["stop slow", "stop ticker"]
    assert "fire ticker" not in journal.calls[journal.calls.index("stop slow") :]
    events = [e.kind for e in coordinator.timeline]
    assert events.index(K.DRIVERS_STARTED) > max(
        i for i, kind in enumerate(events) if kind is K.STARTUP_OK
    )
    assert events.index(K.DRIVERS_CANCELLED) < events.index(K.SHUTDOWN_OK)


def test_startup_is_fifo_with_the_coordinator_and_shutdown_is_lifo() -> None:
    received: list[object] = []

    async def startup(coordinator: Any = None) -> None:
        received.append(coordinator)

    journal = Journal()
    entries = [journal.daemon(n) for n in "abc"] + [
        journal.daemon("d", startup=startup, shutdown=lambda: None)  # type: ignore[arg-type]
    ]
    coordinator = Coordinator(entries, clock=VirtualClock())
    assert run(coordinator, until=1) == 0
    assert journal.calls == ["start a", "start b", "start c", "stop c", "stop b", "stop a"]
    assert received == [coordinator]
    assert kinds(coordinator) == [
        (K.STARTUP_OK, "a"),
        (K.STARTUP_OK, "b"),
        (K.STARTUP_OK, "c"),
        (K.STARTUP_OK, "d"),
        (K.DRIVERS_STARTED, ""),
        (K.SHUTDOWN_REQUESTED, ""),
        (K.DRIVERS_CANCELLED, ""),
        (K.SHUTDOWN_OK, "d"),
        (K.SHUTDOWN_OK, "c"),
        (K.SHUTDOWN_OK, "b"),
        (K.SHUTDOWN_OK, "a"),
    ]


def test_sync_lifecycle_callbacks_work() -> None:
    calls: list[str] = []
    entry = BackgroundDaemonEntry(
        "sync",
        lambda coordinator: calls.append("start"),  # type: ignore[arg-type,func-returns-value]
        lambda: calls.append("stop"),  # type: ignore[arg-type,func-returns-value]
    )
    assert run(Coordinator([entry], clock=VirtualClock()), until=1) == 0
    assert calls == ["start", "stop"]


# --- startup failures -------------------------------------------------------------------------


async def _fail(coordinator: Any = None) -> None:
    msg = "cannot connect"
    raise ConnectionError(msg)


def test_fatal_failure_stops_starting_and_unwinds_the_started_in_reverse() -> None:
    journal = Journal()
    entries = [
        journal.daemon("a", interval=1),
        journal.daemon("b"),
        journal.daemon("engine", startup=_fail, fatal_on_startup_failure=True),
        journal.daemon("later"),
    ]
    coordinator = Coordinator(entries, clock=VirtualClock())
    assert run(coordinator, until=3_600) != 0
    assert journal.calls == ["start a", "start b", "stop b", "stop a"]
    assert fire_times(coordinator) == []
    failed = next(e for e in coordinator.timeline if e.kind is K.STARTUP_FAILED)
    assert (failed.daemon, failed.fatal) == ("engine", True)
    assert "ConnectionError: cannot connect" in failed.detail
    assert K.DRIVERS_STARTED not in [e.kind for e in coordinator.timeline]
    assert coordinator.exit_status == 1


def test_non_fatal_failure_is_logged_and_the_rest_start(caplog: pytest.LogCaptureFixture) -> None:
    journal = Journal()
    entries = [
        journal.daemon("a"),
        journal.daemon("flaky", startup=_fail, interval=1),
        journal.daemon("c", interval=10),
    ]
    coordinator = Coordinator(entries, clock=VirtualClock())
    assert run(coordinator, until=20) == 0
    assert journal.calls == ["start a", "start c", "fire c", "fire c", "stop c", "stop a"]
    assert fire_times(coordinator, "flaky.task") == []  # a failed daemon's task never runs
    assert "flaky" in caplog.text
    assert "cannot connect" in caplog.text


def test_a_listener_without_a_daemon_entry_is_fatal() -> None:
    journal = Journal()
    listeners = ListenerRegistry()
    listeners.register("web", lambda: (_fail, lambda: None))
    coordinator = Coordinator([journal.daemon("a")], listeners, clock=VirtualClock())
    assert run(coordinator, until=10) == 1
    failed = next(e for e in coordinator.timeline if e.kind is K.STARTUP_FAILED)
    assert (failed.daemon, failed.fatal) == ("web", True)
    assert journal.calls == ["start a", "stop a"]


def test_a_raising_listener_factory_is_a_fatal_startup_failure() -> None:
    def factory() -> tuple[Any, Any]:
        msg = "no credentials"
        raise RuntimeError(msg)

    listeners = ListenerRegistry()
    listeners.register("mcp", factory)
    coordinator = Coordinator([], listeners, clock=VirtualClock())
    assert run(coordinator, until=10) == 1
    failed = next(e for e in coordinator.timeline if e.kind is K.STARTUP_FAILED)
    assert "no credentials" in failed.detail


def test_listener_only_daemons_start_after_the_entries() -> None:
    journal = Journal()
    listeners = ListenerRegistry()
    web = journal.daemon("web")
    listeners.register("web", lambda: (web.startup, web.shutdown, 1.0))
    coordinator = Coordinator([journal.daemon("a")], listeners, clock=VirtualClock())
    assert run(coordinator, until=1) == 0
    assert journal.calls == ["start a", "start web", "stop web", "stop a"]


# --- shutdown ---------------------------------------------------------------------------------


async def _hang() -> None:
    await asyncio.Event().wait()


def test_a_hung_shutdown_is_abandoned_after_its_timeout_and_the_rest_still_stop() -> None:
    journal = Journal()
    entries = [
        journal.daemon("a"),
        journal.daemon("stuck", shutdown=_hang, shutdown_timeout=3),
        journal.daemon("c"),
    ]
    coordinator = Coordinator(entries, clock=VirtualClock())
    assert run(coordinator, until=100) == 0
    assert journal.calls == ["start a", "start stuck", "start c", "stop c", "stop a"]
    timeout = next(e for e in coordinator.timeline if e.kind is K.SHUTDOWN_TIMEOUT)
    assert (timeout.daemon, timeout.at) == ("stuck", 103.0)
    assert coordinator.timeline[-1] == TimelineEvent(K.SHUTDOWN_OK, 103.0, "a")


def test_a_shutdown_that_ignores_cancellation_is_abandoned_not_awaited() -> None:
    release = asyncio.Event()

    async def stubborn() -> None:
        while not release.is_set():
            try:
                await release.wait()
            except asyncio.CancelledError:
                continue

    entry = BackgroundDaemonEntry(
        "stubborn", lambda coordinator: None, stubborn, shutdown_timeout=1
    )  # type: ignore[arg-type,func-returns-value]
    coordinator = Coordinator([entry], clock=VirtualClock())

    async def main() -> int:
        status = await coordinator.run(until=5)
        assert [t.get_name() for t in coordinator.abandoned] == ["shutdown:stubborn"]
        release.set()
        await asyncio.gather(*coordinator.abandoned)
        return status

    assert asyncio.run(main()) == 0
    timeout = next(e for e in coordinator.timeline if e.kind is K.SHUTDOWN_TIMEOUT)
    assert "ignored cancellation" in timeout.detail


def test_a_raising_shutdown_is_logged_and_the_rest_still_stop() -> None:
    journal = Journal()

    async def broken() -> None:
        msg = "already closed"
        raise OSError(msg)

    entries = [journal.daemon("a"), journal.daemon("broken", shutdown=broken)]
    coordinator = Coordinator(entries, clock=VirtualClock())
    assert run(coordinator, until=1) == 0
    failed = next(e for e in coordinator.timeline if e.kind is K.SHUTDOWN_FAILED)
    assert failed.daemon == "broken"
    assert "already closed" in failed.detail
    assert journal.calls[-1] == "stop a"


def test_a_second_shutdown_request_is_harmless() -> None:
    journal = Journal()

    def stop_twice() -> None:
        coordinator.request_shutdown("first")
        coordinator.request_shutdown("second")

    coordinator = Coordinator(
        [journal.daemon("a"), journal.daemon("b", interval=30, callback=stop_twice)],
        clock=VirtualClock(),
    )
    assert run(coordinator) == 0  # no `until`: the request ends the run
    requested = [e for e in coordinator.timeline if e.kind is K.SHUTDOWN_REQUESTED]
    assert [(e.detail, e.at) for e in requested] == [("first", 30.0)]
    assert journal.calls == ["start a", "start b", "stop b", "stop a"]
    coordinator.request_shutdown("after the run")  # still harmless
    assert len([e for e in coordinator.timeline if e.kind is K.SHUTDOWN_REQUESTED]) == 1


def test_a_request_during_startup_stops_starting() -> None:
    journal = Journal()

    async def stop_now(coordinator: Any = None) -> None:
        coordinator.request_shutdown("operator")

    entries = [journal.daemon("a"), journal.daemon("b", startup=stop_now), journal.daemon("c")]
    coordinator = Coordinator(entries, clock=VirtualClock())
    assert run(coordinator) == 0
    assert journal.calls == ["start a", "stop b", "stop a"]


def test_a_cancelled_run_still_shuts_down_and_leaves_nothing_pending() -> None:
    journal = Journal()
    coordinator = Coordinator([journal.daemon("a", interval=1)], clock=VirtualClock())

    async def main() -> None:
        task = asyncio.create_task(coordinator.run())
        await coordinator.clock.sleep(10)
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
        assert asyncio.all_tasks() == {asyncio.current_task()}

    asyncio.run(main())
    assert journal.calls[-1] == "stop a"


def test_a_coordinator_runs_once() -> None:
    coordinator = Coordinator([], clock=VirtualClock())
    run(coordinator, until=1)
    with pytest.raises(RuntimeError, match="once"):
        run(coordinator, until=1)


@pytest.mark.parametrize("until", [-1, math.nan, math.inf])
def test_until_must_be_a_finite_duration(until: float) -> None:
    with pytest.raises(ValueError, match="until"):
        run(Coordinator([], clock=VirtualClock()), until=until)


def test_entries_with_one_name_twice_are_rejected() -> None:
    journal = Journal()
    with pytest.raises(DaemonSpecError, match="twice"):
        Coordinator([journal.daemon("a"), journal.daemon("a")])


# --- both sides -------------------------------------------------------------------------------


class Beacon(DaemonListener):
    def __init__(self) -> None:
        self.pings = 0
        self.audits = 0

    def ping(self) -> None:
        self.pings += 1

    def audit(self) -> None:
        self.audits += 1


def test_a_task_known_to_both_sides_runs_once_per_interval() -> None:
    beacon = Beacon.instance()
    daemons, listeners = BackgroundDaemonRegistry(), ListenerRegistry()
    register_dual_listener(
        "beacon",
        beacon,
        periodic_task=PeriodicTaskSpec(60, beacon.ping, "beacon.ping"),
        listener_side_tasks=[PeriodicTaskSpec(600, beacon.audit, "beacon.audit")],
        daemons=daemons,
        listeners=listeners,
    )
    pings, audits = beacon.pings, beacon.audits
    coordinator = Coordinator(daemons.list_entries(), listeners, clock=VirtualClock())
    assert run(coordinator, until=3_600) == 0
    assert coordinator.fire_counts() == {"beacon.ping": 60, "beacon.audit": 6}
    assert (beacon.pings - pings, beacon.audits - audits) == (60, 6)
    started = [e.daemon for e in coordinator.timeline if e.kind is K.STARTUP_OK]
    assert started == ["beacon"]  # one daemon, though both registries know it


def test_listener_side_tasks_without_an_owner_run_too() -> None:
    listeners = ListenerRegistry()
    listeners.register_task(PeriodicTaskSpec(30, lambda: None, "heartbeat.alive"))
    coordinator = Coordinator([], listeners, clock=VirtualClock())
    run(coordinator, until=300)
    assert coordinator.fire_counts() == {"heartbeat.alive": 10}


# --- virtual time -----------------------------------------------------------------------------


def test_a_virtual_day_of_schedule() -> None:
    journal = Journal()
    intervals = {"minutely": 60, "five_minutes": 300, "probe": 30, "hourly": 3_600, "daily": 86_400}
    coordinator = Coordinator(
        [journal.daemon(name, interval=seconds) for name, seconds in intervals.items()],
        clock=VirtualClock(),
    )
    assert run(coordinator, until=86_400) == 0
    assert coordinator.fire_counts() == {
        f"{name}.task": 86_400 // seconds for name, seconds in intervals.items()
    }


def test_wall_time_does_not_grow_with_the_intervals() -> None:
    def outcome(interval: float) -> tuple[dict[str, int], int]:
        coordinator = Coordinator(
            [Journal().daemon(f"d{i}", interval=interval) for i in range(10)],
            clock=VirtualClock(),
        )
        run(coordinator, until=interval * 100)
        return coordinator.fire_counts(), len(coordinator.timeline)

    # A second or a day between fires, the run does the same work: 100 fires per daemon.
    assert outcome(1) == outcome(86_400)
    assert outcome(86_400)[0] == {f"d{i}.task": 100 for i in range(10)}


def test_many_daemons_fire_on_schedule() -> None:
    entries = [Journal().daemon(f"d{i}", interval=60) for i in range(1_000)]
    coordinator = Coordinator(entries, clock=VirtualClock(), record_fires=False)
    run(coordinator, until=3_600)
    assert sum(coordinator.fire_counts().values()) == 60_000
    assert not [e for e in coordinator.timeline if e.kind is K.FIRE_OK]


def test_a_callback_reading_the_wall_clock_sees_virtual_time() -> None:
    epoch = dt.datetime(2100, 6, 1, tzinfo=dt.timezone.utc)
    stamps: list[float] = []
    entry = Journal().daemon("stamper", interval=3_600, callback=lambda: stamps.append(time.time()))
    coordinator = Coordinator([entry], clock=VirtualClock(epoch=epoch, wall_clock=True))
    run(coordinator, until=3 * 3_600)
    assert stamps == [epoch.timestamp() + 3_600 * n for n in (1, 2, 3)]
    assert time.time() < epoch.timestamp()  # freezegun is stopped again


def test_timeline_events_serialise_for_the_cli() -> None:
    coordinator = Coordinator([Journal().daemon("a", interval=1)], clock=VirtualClock())
    run(coordinator, until=1)
    fire = next(e for e in coordinator.timeline if e.kind is K.FIRE_OK)
    assert fire.as_dict() == {
        "kind": "fire_ok",
        "at": 1.0,
        "daemon": "a",
        "task": "a.task",
        "detail": "",
        "fatal": False,
    }


# --- the example plugin -----------------------------------------------------------------------


class _Context:
    name = "listener_example"

    def __init__(self) -> None:
        self.daemons = BackgroundDaemonRegistry()
        self.listeners = ListenerRegistry()

    def register_background_daemon(self, name: str, startup: Any, shutdown: Any, **kw: Any) -> Any:
        entry = BackgroundDaemonEntry(name, startup, shutdown, plugin_name=self.name, **kw)
        return self.daemons.register(entry)

    def register_dual_listener(self, name: str, listener: Any, **kw: Any) -> Any:
        return register_dual_listener(
            name,
            listener,
            plugin_name=self.name,
            daemons=self.daemons,
            listeners=self.listeners,
            **kw,
        )


def test_the_example_plugin_for_an_hour_fires_exactly_on_its_intervals(
    isolated_imports: None,
) -> None:
    module = _import_directory("listener_example", REPO_ROOT / "plugins" / "listener_example")
    ctx = _Context()
    module.register(ctx)
    inbox = module.Inbox.instance()
    polls = inbox.polls
    coordinator = Coordinator(ctx.daemons.list_entries(), ctx.listeners, clock=VirtualClock())
    assert run(coordinator, until=3_600) == 0
    assert coordinator.fire_counts() == {
        "inbox.poll": 60,
        "digest.compact": 1,
        "telemetry.persist": 12,
        "telemetry.rollup": 1,
    }
    assert inbox.polls - polls == 60
    assert inbox.connected is False


# --- the real clock ---------------------------------------------------------------------------


def test_the_real_clock_path_fires_and_stops() -> None:
    coordinator = Coordinator([Journal().daemon("a", interval=0.01)], clock=RealClock())
    assert run(coordinator, until=0.045) == 0
    assert 2 <= coordinator.fire_counts()["a.task"] <= 4


def test_sigterm_requests_a_graceful_shutdown() -> None:
    if threading.current_thread() is not threading.main_thread():
        pytest.skip("signal handlers can only be installed from the main thread")
    before = signal.getsignal(signal.SIGTERM)
    journal = Journal()

    def send_sigterm() -> None:
        # Only send it if the coordinator really handles it: the default would end the test run.
        if signal.getsignal(signal.SIGTERM) is not before:
            os.kill(os.getpid(), signal.SIGTERM)

    coordinator = Coordinator(
        [journal.daemon("a", interval=0.01, callback=send_sigterm)], clock=RealClock()
    )
    assert run(coordinator, until=0.05) == 0
    requested = next(e for e in coordinator.timeline if e.kind is K.SHUTDOWN_REQUESTED)
    assert requested.detail == "SIGTERM"
    assert signal.getsignal(signal.SIGTERM) is before
    assert journal.calls == ["start a", "stop a"]


# --- planned tasks ------------------------------------------------------------------------------


def test_planned_tasks_are_what_the_run_drives_in_order_and_skip_what_did_not_start() -> None:
    beacon = Beacon.instance()
    journal = Journal()
    daemons, listeners = BackgroundDaemonRegistry(), ListenerRegistry()
    daemons.register(journal.daemon("first", interval=10))
    register_dual_listener(
        "beacon",
        beacon,
        periodic_task=PeriodicTaskSpec(60, beacon.ping, "beacon.ping"),
        listener_side_tasks=[PeriodicTaskSpec(600, beacon.audit, "beacon.audit")],
        daemons=daemons,
        listeners=listeners,
    )
    listeners.register_task(PeriodicTaskSpec(30, lambda: None, "heartbeat.alive"))
    coordinator = Coordinator(daemons.list_entries(), listeners, clock=VirtualClock())

    planned = [(owner, spec.name, side) for owner, spec, side in coordinator.planned_tasks()]
    assert planned == [
        ("first", "first.task", "daemon"),
        ("beacon", "beacon.ping", "daemon"),  # on both sides, planned once
        ("beacon", "beacon.audit", "listener"),
        ("", "heartbeat.alive", "listener"),  # no listener: never skipped
    ]
    only_first = [spec.name for _, spec, _ in coordinator.planned_tasks({"first"})]
    assert only_first == ["first.task", "heartbeat.alive"]

    run(coordinator, until=60)
    drives = sorted(coordinator.fire_counts())
    assert drives == sorted(spec.name for _, spec, _ in coordinator.planned_tasks())
