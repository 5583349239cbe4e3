"""The operator command ``python -m reference_runtime daemons``."""

from __future__ import annotations

import json
import os
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
