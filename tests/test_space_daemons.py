"""The daemon checks cover their rules' spaces: conforming variants stay CONFORMANT, broken ones
of kinds the shipped mutants do not show are caught, and the coordinator's public fire seam
tells every call of a periodic callback apart.

One ``pytest --kora-conformance`` subprocess certifies the small plugins written here (as in
``test_kit_daemon_checks.py``); the property-based part runs the reference coordinator in virtual
time in this process, with the call recorder watching.
"""

from __future__ import annotations

import asyncio
import dataclasses
import json
import os
import subprocess
import sys
import textwrap
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from kora_conformance.harness._callables import callback_key
from kora_conformance.harness._virtual_run import Driver, fire_count
from kora_conformance.suites.daemons._call_recorder import CallRecorder
from reference_runtime import (
    BackgroundDaemonEntry,
    Coordinator,
    PeriodicTaskSpec,
    StartedDaemon,
    VirtualClock,
    background_daemon_registry,
    current_fire,
    listener_registry,
)
from reference_runtime.compat import isolated_defaults

HEADER = (
    "import asyncio\nimport time\nfrom reference_runtime import DaemonListener, PeriodicTaskSpec\n"
)

#: Plugin name → (source, the checks it must fail or warn, text its report must contain).
PLUGINS: dict[str, tuple[str, set[str], str]] = {
    # --- conforming variants of the spaces the checks now probe --------------------------------
    "final_flush": (
        """
        class Buffer:
            def __init__(self):
                self.items = []

            async def startup(self, coordinator=None):
                pass

            def flush(self):
                self.items.clear()

            async def shutdown(self):
                self.flush()  # a shutdown may run the task a last time

        BUFFER = Buffer()

        def register(ctx):
            ctx.register_background_daemon(
                "buffer", BUFFER.startup, BUFFER.shutdown,
                periodic_task=PeriodicTaskSpec(30, BUFFER.flush, "buffer.flush"),
            )
        """,
        set(),
        "",
    ),
    "raises_first_then_recovers": (
        """
        CALLS = [0]

        def start(coordinator=None):
            pass

        def stop():
            pass

        async def sync_once():
            CALLS[0] += 1
            if CALLS[0] == 1:
                raise ConnectionError("not connected yet")

        def register(ctx):
            ctx.register_background_daemon(
                "syncer", start, stop, periodic_task=PeriodicTaskSpec(20, sync_once, "syncer.run")
            )
        """,
        set(),
        "",
    ),
    "raises_every_third": (
        """
        CALLS = [0]

        async def start(coordinator=None):
            pass

        def stop():
            pass

        def poll():
            CALLS[0] += 1
            if CALLS[0] % 3 == 0:
                raise TimeoutError("slow upstream")

        def register(ctx):
            ctx.register_background_daemon(
                "poller", start, stop, periodic_task=PeriodicTaskSpec(45, poll, "poller.poll")
            )
        """,
        set(),
        "",
    ),
    "quick_sync_shutdown": (
        """
        def start(coordinator=None):
            pass

        def stop():
            time.sleep(0.01)  # on the coordinator's worker thread, well within its timeout

        def register(ctx):
            ctx.register_background_daemon("closer", start, stop, shutdown_timeout=0.5)
        """,
        set(),
        "",
    ),
    "seconds_and_hours": (
        """
        async def start(coordinator=None):
            pass

        async def stop():
            pass

        def beat():
            pass

        async def report():
            pass

        def register(ctx):
            ctx.register_background_daemon(
                "beat", start, stop, periodic_task=PeriodicTaskSpec(1, beat, "beat.run")
            )
            ctx.register_background_daemon(
                "report", start, stop, periodic_task=PeriodicTaskSpec(3600, report, "report.run")
            )
        """,
        set(),
        "",
    ),
    "one_shot_with_task": (
        """
        class Once:
            started = False

            async def startup(self, coordinator=None):
                if self.started:
                    raise RuntimeError("starts once per process")
                self.started = True

            async def shutdown(self):
                pass

            def tick(self):
                pass

        ONCE = Once()

        def register(ctx):
            ctx.register_background_daemon(
                "once", ONCE.startup, ONCE.shutdown,
                periodic_task=PeriodicTaskSpec(10, ONCE.tick, "once.tick"),
            )
        """,
        set(),
        "",
    ),
    "careful_background": (
        """
        class Pump:
            def __init__(self):
                self.task = None

            async def startup(self, coordinator=None):
                if coordinator is None:
                    return  # nothing to pump for a bare consumer
                self.task = asyncio.ensure_future(self._pump(coordinator))

            async def _pump(self, coordinator):
                while True:
                    await coordinator.clock.sleep(30)

            async def shutdown(self):
                if self.task is not None:
                    self.task.cancel()
                    self.task = None

        PUMP = Pump()

        def register(ctx):
            ctx.register_background_daemon("pump", PUMP.startup, PUMP.shutdown)
        """,
        set(),
        "",
    ),
    "hourly_wrapper": (
        """
        class Stats(DaemonListener):
            async def persist(self):
                pass

        STATS = Stats.instance()

        async def hourly_rollup():
            await STATS.persist()  # its own task, less often: not the primary twice

        def register(ctx):
            ctx.register_dual_listener(
                "stats",
                STATS,
                periodic_task=PeriodicTaskSpec(300, STATS.persist, "stats.persist"),
                listener_side_tasks=[PeriodicTaskSpec(3600, hourly_rollup, "stats.rollup")],
            )
        """,
        set(),
        "",
    ),
    "listener_holding_state": (
        """
        class Socket:
            def __init__(self):
                self.open = False

            def startup(self, coordinator=None):
                self.open = True

            def shutdown(self):
                self.open = False

            def ping(self):
                pass

        SOCKET = Socket()

        def register(ctx):
            ctx.register_background_daemon(
                "socket", SOCKET.startup, SOCKET.shutdown,
                periodic_task=PeriodicTaskSpec(15, SOCKET.ping, "socket.ping"),
            )
            ctx.register_listener("socket", lambda: (SOCKET.startup, SOCKET.shutdown))
        """,
        set(),
        "",
    ),
    # --- broken variants of kinds the shipped mutants do not show -----------------------------
    "own_loop_daemon_side": (
        """
        class Ticker:
            def __init__(self):
                self.loop = None

            async def startup(self, coordinator=None):
                if coordinator is not None:
                    self.loop = asyncio.ensure_future(self._every(coordinator))

            async def _every(self, coordinator):
                while True:
                    await coordinator.clock.sleep(60)
                    self.tick()

            async def shutdown(self):
                if self.loop is not None:
                    self.loop.cancel()

            def tick(self):
                pass

        TICKER = Ticker()

        def register(ctx):
            ctx.register_background_daemon(
                "ticker", TICKER.startup, TICKER.shutdown,
                periodic_task=PeriodicTaskSpec(60, TICKER.tick, "ticker.tick"),
            )
        """,
        {"KC-DM-005"},
        "a schedule of its own",
    ),
    "sync_sleepy_shutdown": (
        """
        def start(coordinator=None):
            pass

        def stop():
            time.sleep(1.0)

        def register(ctx):
            ctx.register_background_daemon("slow", start, stop, shutdown_timeout=0.25)
        """,
        {"KC-DM-005"},
        "shutdown of 'slow'",
    ),
    "sync_named_wrapper": (
        """
        class Inbox(DaemonListener):
            def poll(self):
                pass

        INBOX = Inbox.instance()

        def poll_from_listener_side():
            INBOX.poll()

        def register(ctx):
            ctx.register_dual_listener(
                "inbox",
                INBOX,
                periodic_task=PeriodicTaskSpec(60, INBOX.poll, "inbox.poll"),
                listener_side_tasks=[
                    PeriodicTaskSpec(30, poll_from_listener_side, "inbox.poll.fast")
                ],
            )
        """,
        {"KC-DM-006"},
        "also runs on every fire of task 'inbox.poll.fast'",
    ),
    "keyword_form_background": (
        """
        class Feed:
            def __init__(self):
                self.task = None

            async def startup(self, *args, **kwargs):
                coordinator = args[0] if args else None  # the keyword form is forgotten
                self.task = asyncio.ensure_future(self._run(coordinator))

            async def _run(self, coordinator):
                await coordinator.clock.sleep(5)

            async def shutdown(self):
                if self.task is not None:
                    self.task.cancel()

        FEED = Feed()

        def register(ctx):
            ctx.register_background_daemon("feed", FEED.startup, FEED.shutdown)
        """,
        {"KC-DM-002"},
        "startup(coordinator=coordinator) returned, but the task it spawned",
    ),
}


@pytest.fixture(scope="module")
def report(tmp_path_factory: pytest.TempPathFactory) -> tuple[dict[str, Any], str]:
    workdir = tmp_path_factory.mktemp("space-daemons")
    args = [sys.executable, "-m", "pytest", "--kora-conformance", "-p", "no:cacheprovider"]
    for name, (source, _, _) in PLUGINS.items():
        directory = workdir / "plugins" / name
        directory.mkdir(parents=True)
        (directory / "plugin.yaml").write_text(f"name: {name}\nversion: '0.1'\nhooks: []\n")
        (directory / "__init__.py").write_text(HEADER + textwrap.dedent(source))
        args += ["--kora-plugin", str(directory)]
    args += ["--kora-report", "r.json"]
    env = {
        k: v for k, v in os.environ.items() if not k.startswith(("KORA_", "ANTHROPIC_", "PYTEST_"))
    }
    env["HOME"] = str(workdir)
    done = subprocess.run(
        args, cwd=workdir, env=env, capture_output=True, text=True, timeout=300, check=False
    )
    output = done.stdout + done.stderr
    assert (workdir / "r.json").is_file(), output
    return json.loads((workdir / "r.json").read_text(encoding="utf-8")), output


@pytest.mark.parametrize("name", PLUGINS)
def test_each_variant_breaks_exactly_the_expected_daemon_checks(
    report: tuple[dict[str, Any], str], name: str
) -> None:
    data, output = report
    target = next(t for t in data["targets"] if t["name"] == name)
    broken = {c["id"] for c in target["checks"] if c["outcome"] in {"failed", "warned"}}
    _, expected, text = PLUGINS[name]

    assert broken == expected, target
    assert target["verdict"] == ("not-conformant" if expected else "conformant")
    if text:
        messages = " ".join(c["message"] for c in target["checks"] if c["id"] in expected)
        assert text in messages or text in output, target


# --- the coordinator's public seams, property-based -----------------------------------------------


@dataclasses.dataclass
class _Daemon:
    """One generated daemon: how its task behaves and how often it fires."""

    kind: str  # "sync", "async", "raises_first", "raises_later"
    interval: float
    calls: int = 0
    fires_seen: list[int] = dataclasses.field(default_factory=list)
    outside_fire: list[str] = dataclasses.field(default_factory=list)

    def startup(self, coordinator: Any = None) -> None:
        if current_fire.get() is not None:
            self.outside_fire.append("startup")

    def shutdown(self) -> None:
        if current_fire.get() is not None:
            self.outside_fire.append("shutdown")

    def _count(self) -> None:
        self.calls += 1
        fire = current_fire.get()
        self.fires_seen.append(0 if fire is None else fire.number)
        if self.kind == "raises_first" and self.calls == 1:
            msg = "first fire fails"
            raise RuntimeError(msg)
        if self.kind == "raises_later" and self.calls % 2 == 0:
            msg = "every second fire fails"
            raise RuntimeError(msg)

    def tick(self) -> None:
        self._count()

    async def tick_async(self) -> None:
        await asyncio.sleep(0)
        self._count()


_daemons = st.lists(
    st.builds(
        _Daemon,
        kind=st.sampled_from(["sync", "async", "raises_first", "raises_later"]),
        interval=st.sampled_from([5.0, 7.0, 30.0, 60.0]),
    ),
    min_size=1,
    max_size=4,
)


@settings(
    max_examples=15,
    derandomize=True,
    database=None,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
)
@given(_daemons)
def test_every_call_of_a_periodic_callback_is_attributed_to_its_own_fire(
    daemons: list[_Daemon],
) -> None:
    entries = []
    for i, daemon in enumerate(daemons):
        callback = daemon.tick_async if daemon.kind == "async" else daemon.tick
        spec = PeriodicTaskSpec(daemon.interval, callback, f"task{i}")
        entries.append(
            BackgroundDaemonEntry(f"d{i}", daemon.startup, daemon.shutdown, periodic_task=spec)
        )
    clock = VirtualClock(wall_clock=False)
    coordinator = Coordinator(entries, clock=clock, handle_signals=False)
    drivers = [Driver(*task) for task in coordinator.planned_tasks()]
    horizon = 3 * max(d.interval for d in daemons) + 0.5
    recorder = CallRecorder(drivers, clock)
    with recorder.recording():
        assert coordinator.run_sync(until=horizon) == 0

    for daemon, driver in zip(daemons, drivers, strict=True):
        due = fire_count(horizon, daemon.interval)
        assert daemon.fires_seen == list(range(1, due + 1))
        assert daemon.outside_fire == []
        key = callback_key(driver.spec.callback)
        assert key is not None
        calls = recorder.calls.get(key, [])
        assert [c.fire for c in calls] == list(range(1, due + 1))
        assert all(c.driver is driver and not c.nested for c in calls)


def test_a_task_spawned_by_a_fire_is_not_that_fire_once_it_is_over() -> None:
    seen: list[tuple[int, bool]] = []
    spawned: list[asyncio.Task[None]] = []

    async def later() -> None:
        await asyncio.sleep(0)
        fire = current_fire.get()
        assert fire is not None  # the context is inherited...
        seen.append((fire.number, fire.running))  # ...but the fire is over

    def spawn() -> None:
        spawned.append(asyncio.ensure_future(later()))

    def nothing(coordinator: Any = None) -> None:
        return None

    entry = BackgroundDaemonEntry(
        "spawner", nothing, nothing, periodic_task=PeriodicTaskSpec(10, spawn, "spawn")
    )
    coordinator = Coordinator([entry], clock=VirtualClock(wall_clock=False))
    assert coordinator.run_sync(until=25) == 0
    assert seen == [(1, False), (2, False)]


class _StartOrderShutdown(Coordinator):
    """Shuts down in start order through the public phase hook alone."""

    def shutdown_order(self, started: Any) -> list[StartedDaemon]:
        return list(started)


def test_the_shutdown_order_hook_decides_the_stop_order() -> None:
    order: list[str] = []

    def stopper(name: str) -> Any:
        def stop() -> None:
            order.append(name)

        return stop

    def start(coordinator: Any = None) -> None:
        return None

    entries = [BackgroundDaemonEntry(n, start, stopper(n)) for n in ("a", "b", "c")]
    for cls, expected in ((Coordinator, ["c", "b", "a"]), (_StartOrderShutdown, ["a", "b", "c"])):
        order.clear()
        assert cls(entries, clock=VirtualClock(wall_clock=False)).run_sync(until=1) == 0
        assert order == expected


def test_isolated_defaults_puts_back_the_registries_through_the_install_functions() -> None:
    daemons, listeners = background_daemon_registry(), listener_registry()
    with isolated_defaults():
        assert background_daemon_registry() is not daemons
        assert listener_registry() is not listeners
    assert background_daemon_registry() is daemons
    assert listener_registry() is listeners
