"""The operator command ``python -m reference_runtime daemons``."""

from __future__ import annotations

import json
import os
import select
import signal
import subprocess
import sys
import textwrap
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from reference_runtime import compat
from reference_runtime._cli import main

REPO_ROOT = Path(__file__).resolve().parents[1]
EXAMPLE = ("--plugins-dir", "plugins", "--enable", "listener_example")
EXAMPLE_FIRES = {
    "inbox.poll": 60,
    "digest.compact": 1,
    "telemetry.persist": 12,
    "telemetry.rollup": 1,
}
JSON_KEYS = {
    "exit_status",
    "virtual_seconds",
    "daemons",
    "listeners",
    "fire_counts",
    "timeline",
    "load_errors",
}

FATAL_STARTUP = """
from reference_runtime import PeriodicTaskSpec

STOPPED = []

async def start_ok(coordinator=None):
    pass

async def stop_ok():
    STOPPED.append("first")

async def start_broken(coordinator=None):
    raise ConnectionError("broker unreachable")

async def stop_broken():
    STOPPED.append("broken")

def tick():
    pass

def register(ctx):
    ctx.register_background_daemon(
        "first", start_ok, stop_ok, periodic_task=PeriodicTaskSpec(60, tick, "first.tick")
    )
    ctx.register_background_daemon(
        "broker", start_broken, stop_broken, fatal_on_startup_failure=True
    )
    ctx.register_background_daemon("never", start_ok, stop_ok)
"""


def run_module(*args: str, cwd: Path = REPO_ROOT) -> subprocess.CompletedProcess[str]:
    """The command in a fresh interpreter, environment cleaned of the project's variables."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("KORA_", "ANTHROPIC_"))}
    return subprocess.run(
        [sys.executable, "-m", "reference_runtime", "daemons", *args],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


@pytest.fixture
def run_main(
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    isolated_imports: None,
) -> Iterator[Callable[..., tuple[int, str, str]]]:
    """``run_main(*args)`` → (status, stdout, stderr), in-process, from the repository root."""
    monkeypatch.chdir(REPO_ROOT)
    already = compat.is_installed()

    def run(*args: str) -> tuple[int, str, str]:
        status = main(["daemons", *args])
        out, err = capsys.readouterr()
        return status, out, err

    with compat.isolated_defaults():
        yield run
    if not already:
        compat.uninstall()


@pytest.fixture
def fatal_plugins(tmp_path: Path) -> Path:
    root = tmp_path / "plugins"
    plugin = root / "fatal_broker"
    plugin.mkdir(parents=True)
    (plugin / "plugin.yaml").write_text("name: fatal_broker\nversion: '0.1'\n", encoding="utf-8")
    (plugin / "__init__.py").write_text(textwrap.dedent(FATAL_STARTUP), encoding="utf-8")
    return root


def parse(stdout: str) -> dict[str, Any]:
    payload: dict[str, Any] = json.loads(stdout)
    assert set(payload) == JSON_KEYS
    return payload


# --- in a fresh interpreter ---------------------------------------------------------------------


def test_an_hour_of_the_example_plugin_fires_exactly_on_its_intervals_and_fast() -> None:
    started = time.perf_counter()
    result = run_module(*EXAMPLE, "--virtual-seconds", "3600", "--json")
    elapsed = time.perf_counter() - started

    assert result.returncode == 0, result.stderr
    payload = parse(result.stdout)
    assert payload["exit_status"] == 0
    assert payload["virtual_seconds"] == 3600
    assert payload["fire_counts"] == EXAMPLE_FIRES
    assert payload["daemons"] == ["inbox", "digest_compactor", "telemetry"]
    assert payload["listeners"] == ["inbox", "telemetry"]
    assert payload["load_errors"] == {}
    fires = [e for e in payload["timeline"] if e["kind"] == "fire_ok"]
    assert len(fires) == sum(EXAMPLE_FIRES.values())
    assert min(e["at"] for e in fires) == 60.0
    assert elapsed < 10, f"an hour of virtual time took {elapsed:.1f} s including start-up"


def test_a_day_costs_about_what_an_hour_does() -> None:
    result = run_module(*EXAMPLE, "--virtual-seconds", "86400", "--json")

    assert result.returncode == 0, result.stderr
    assert parse(result.stdout)["fire_counts"] == {k: v * 24 for k, v in EXAMPLE_FIRES.items()}


def test_a_fatal_startup_failure_exits_non_zero(fatal_plugins: Path) -> None:
    result = run_module(
        "--plugins-dir",
        str(fatal_plugins),
        "--enable",
        "fatal_broker",
        "--virtual-seconds",
        "600",
        "--json",
    )

    assert result.returncode == 1, result.stderr
    payload = parse(result.stdout)
    assert payload["exit_status"] == 1
    failed = [e for e in payload["timeline"] if e["kind"] == "startup_failed"]
    assert failed == [
        {
            "kind": "startup_failed",
            "at": 0.0,
            "daemon": "broker",
            "task": "",
            "detail": "ConnectionError: broker unreachable",
            "fatal": True,
        }
    ]
    assert payload["fire_counts"] == {}
    started = [e["daemon"] for e in payload["timeline"] if e["kind"] == "startup_ok"]
    stopped = [e["daemon"] for e in payload["timeline"] if e["kind"] == "shutdown_ok"]
    assert started == stopped == ["first"]


def test_a_fatal_startup_failure_is_reported_in_human_output_too(fatal_plugins: Path) -> None:
    result = run_module(
        "--plugins-dir", str(fatal_plugins), "--enable", "fatal_broker", "--virtual-seconds", "60"
    )

    assert result.returncode == 1
    assert "startup_failed     broker (ConnectionError: broker unreachable) [fatal]" in (
        result.stdout
    )
    assert result.stdout.rstrip().endswith("fires: none; exit status 1")


@pytest.mark.parametrize("value", ["-1", "-0.5", "nan", "inf"])
def test_virtual_seconds_must_be_a_finite_non_negative_number(value: str) -> None:
    result = run_module(*EXAMPLE, f"--virtual-seconds={value}")

    assert result.returncode == 2
    assert "error: --virtual-seconds must be a finite number >= 0" in result.stderr
    assert "Traceback" not in result.stderr
    assert result.stdout == ""


def test_a_virtual_seconds_that_is_not_a_number_is_a_usage_error() -> None:
    result = run_module(*EXAMPLE, "--virtual-seconds", "an hour")

    assert result.returncode == 2
    assert "invalid float value: 'an hour'" in result.stderr


# --- in-process ---------------------------------------------------------------------------------


def test_human_output_lists_startups_fires_and_shutdowns_in_order(
    run_main: Callable[..., tuple[int, str, str]],
) -> None:
    status, out, err = run_main(*EXAMPLE, "--virtual-seconds", "600")

    assert status == 0, err
    lines = out.splitlines()
    kinds = [line.split()[1] for line in lines[:-1]]
    assert kinds[:4] == ["startup_ok", "startup_ok", "startup_ok", "drivers_started"]
    assert kinds[-5:] == [
        "shutdown_requested",
        "drivers_cancelled",
        "shutdown_ok",
        "shutdown_ok",
        "shutdown_ok",
    ]
    assert set(kinds[4:-5]) == {"fire_ok"}
    assert [line.split()[2] for line in lines[:3]] == ["inbox", "digest_compactor", "telemetry"]
    assert [line.split()[2] for line in lines[-4:-1]] == ["telemetry", "digest_compactor", "inbox"]
    assert "    60.000s fire_ok            inbox inbox.poll" in lines
    assert "   300.000s fire_ok            telemetry telemetry.persist" in lines
    times = [float(line.split()[0].rstrip("s")) for line in lines[:-1]]
    assert times == sorted(times)
    assert lines[-1] == (
        "fires: inbox.poll=10, digest.compact=0, telemetry.persist=2, telemetry.rollup=0; "
        "exit status 0"
    )


def test_zero_virtual_seconds_starts_and_stops_without_fires(
    run_main: Callable[..., tuple[int, str, str]],
) -> None:
    status, out, _ = run_main(*EXAMPLE, "--virtual-seconds", "0", "--json")

    assert status == 0
    payload = parse(out)
    assert set(payload["fire_counts"].values()) == {0}
    kinds = [e["kind"] for e in payload["timeline"]]
    assert kinds.count("startup_ok") == kinds.count("shutdown_ok") == 3


def test_an_unknown_plugin_is_reported_and_nothing_runs(
    run_main: Callable[..., tuple[int, str, str]],
) -> None:
    status, out, _ = run_main(
        "--plugins-dir", "plugins", "--enable", "no_such_plugin", "--virtual-seconds", "60"
    )

    assert status == 0
    assert out.splitlines()[-1] == "fires: none; exit status 0"


# --- faults: every started daemon shut down once, a documented exit status, no hang ---------------

FAULTY = """
import asyncio
import threading
import time

from reference_runtime import PeriodicTaskSpec


async def start(coordinator=None):
    pass


async def stop():
    pass


def tick():
    pass


{body}


def register(ctx):
    ctx.register_background_daemon(
        "first", start, stop, periodic_task=PeriodicTaskSpec(60, tick, "first.tick")
    )
    ctx.register_background_daemon("faulty", faulty_start, faulty_stop, shutdown_timeout=0.2)
    ctx.register_background_daemon("last", start, stop)
"""


def faulty_plugin(root: Path, body: str) -> tuple[str, ...]:
    """A plugin of three daemons whose middle one, ``faulty``, is ``body``'s; its CLI options."""
    plugin = root / "plugins" / "faulty"
    plugin.mkdir(parents=True)
    (plugin / "plugin.yaml").write_text("name: faulty\nversion: '0.1'\n", encoding="utf-8")
    source = FAULTY.format(body=textwrap.dedent(body))
    (plugin / "__init__.py").write_text(source, encoding="utf-8")
    return ("--plugins-dir", str(root / "plugins"), "--enable", "faulty")


def kinds_by_daemon(payload: dict[str, Any], *kinds: str) -> list[tuple[str, str]]:
    return [(e["kind"], e["daemon"]) for e in payload["timeline"] if e["kind"] in kinds]


STOPS = ("shutdown_ok", "shutdown_timeout", "shutdown_failed")


@pytest.mark.parametrize("value", ["3e11", "1e300"])
def test_virtual_seconds_past_the_virtual_wall_clocks_range_is_a_usage_error(value: str) -> None:
    started = time.perf_counter()
    result = run_module(*EXAMPLE, "--virtual-seconds", value)

    assert time.perf_counter() - started < 30
    assert result.returncode == 2
    assert "error: --virtual-seconds must be at most" in result.stderr
    assert "year 9999" in result.stderr
    assert result.stdout == ""


@pytest.mark.parametrize(
    ("where", "exc"),
    [
        ("start", "SystemExit(5)"),
        ("start", "KeyboardInterrupt()"),
        ("start", "GeneratorExit()"),
        ("stop", "SystemExit(6)"),
        ("stop", "KeyboardInterrupt()"),
    ],
)
def test_a_process_level_exception_from_a_plugin_is_a_fatal_failure_with_status_1(
    tmp_path: Path, where: str, exc: str
) -> None:
    body = f"""
    async def faulty_start(coordinator=None):
        {"raise " + exc if where == "start" else "pass"}

    async def faulty_stop():
        {"raise " + exc if where == "stop" else "pass"}
    """
    result = run_module(*faulty_plugin(tmp_path, body), "--virtual-seconds", "600", "--json")

    assert result.returncode == 1, result.stderr  # the command's status, never the plugin's
    payload = parse(result.stdout)
    assert payload["exit_status"] == 1
    name = exc.split("(", maxsplit=1)[0]
    assert f"error: the run was ended by {name}" in result.stderr
    started = [d for k, d in kinds_by_daemon(payload, "startup_ok")]
    stopped = [d for k, d in kinds_by_daemon(payload, *STOPS)]
    assert stopped == started[::-1]  # each started daemon shut down once, in reverse
    assert started == (["first"] if where == "start" else ["first", "faulty", "last"])


def test_a_blocking_synchronous_shutdown_is_bounded_and_recorded_as_timed_out(
    tmp_path: Path,
) -> None:
    body = """
    async def faulty_start(coordinator=None):
        pass

    def faulty_stop():
        time.sleep(31)
    """
    started = time.perf_counter()
    result = run_module(*faulty_plugin(tmp_path, body), "--virtual-seconds", "60", "--json")

    assert time.perf_counter() - started < 20
    assert result.returncode == 0, result.stderr
    payload = parse(result.stdout)
    assert kinds_by_daemon(payload, *STOPS) == [
        ("shutdown_ok", "last"),
        ("shutdown_timeout", "faulty"),
        ("shutdown_ok", "first"),
    ]


def test_a_shutdown_ignoring_cancellation_and_a_plugins_thread_do_not_block_the_exit(
    tmp_path: Path,
) -> None:
    body = """
    async def faulty_start(coordinator=None):
        threading.Thread(target=threading.Event().wait, name="plugin-worker").start()

    async def faulty_stop():
        while True:
            try:
                await asyncio.Event().wait()
            except asyncio.CancelledError:
                continue
    """
    started = time.perf_counter()
    result = run_module(*faulty_plugin(tmp_path, body), "--virtual-seconds", "60", "--json")

    assert time.perf_counter() - started < 20
    assert result.returncode == 0, result.stderr
    payload = parse(result.stdout)
    stops = kinds_by_daemon(payload, *STOPS)
    assert stops == [
        ("shutdown_ok", "last"),
        ("shutdown_timeout", "faulty"),
        ("shutdown_ok", "first"),
    ]


# --- real signals to a real-time run ------------------------------------------------------------


class Child:
    """``python -m reference_runtime daemons`` in real time, read as it prints."""

    def __init__(self, *args: str) -> None:
        env = {k: v for k, v in os.environ.items() if not k.startswith(("KORA_", "ANTHROPIC_"))}
        self.process = subprocess.Popen(
            [sys.executable, "-m", "reference_runtime", "daemons", *args],
            cwd=REPO_ROOT,
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
        )
        self.out = b""

    def wait_for(self, text: str, timeout: float = 30) -> None:
        """Read stdout until ``text`` appears; fail (and kill the child) after ``timeout``."""
        assert self.process.stdout is not None
        fd = self.process.stdout.fileno()
        deadline = time.monotonic() + timeout
        while text.encode() not in self.out:
            remaining = deadline - time.monotonic()
            ready, _, _ = select.select([fd], [], [], max(remaining, 0))
            chunk = os.read(fd, 65536) if ready else b""
            if not chunk:
                self.process.kill()
                pytest.fail(f"no {text!r} within {timeout} s; stdout so far: {self.out!r}")
            self.out += chunk

    def finish(self, timeout: float = 30) -> tuple[int, str, str]:
        try:
            out, err = self.process.communicate(timeout=timeout)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.communicate()
            pytest.fail(f"the command did not exit within {timeout} s of the signal")
        return self.process.returncode, (self.out + out).decode(), err.decode()


NEVER_STARTS = """
async def faulty_start(coordinator=None):
    await asyncio.Event().wait()

async def faulty_stop():
    pass
"""


@pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGINT], ids=lambda s: s.name)
def test_a_signal_cancels_a_startup_that_never_returns_and_exits_3(
    tmp_path: Path, signum: signal.Signals
) -> None:
    child = Child(*faulty_plugin(tmp_path, NEVER_STARTS))
    child.wait_for("startup_ok         first")
    child.process.send_signal(signum)
    status, out, err = child.finish()

    assert status == 3, err
    assert "startup_failed     faulty (cancelled: still starting" in out
    assert "shutdown_ok        first" in out
    assert "last" not in out  # never started, so never shut down
    assert out.rstrip().endswith("exit status 3")


def test_sighup_shuts_every_daemon_down_like_sigterm(tmp_path: Path) -> None:
    body = """
    async def faulty_start(coordinator=None):
        pass

    async def faulty_stop():
        pass
    """
    child = Child(*faulty_plugin(tmp_path, body))
    child.wait_for("drivers_started")
    child.process.send_signal(signal.SIGHUP)
    status, out, err = child.finish()

    assert status == 0, err
    assert "shutdown_requested (SIGHUP)" in out
    stopped = [line.split()[2] for line in out.splitlines() if "shutdown_ok" in line]
    assert stopped == ["last", "faulty", "first"]
