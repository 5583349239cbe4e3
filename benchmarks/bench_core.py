"""What every figure shares: the :class:`Figure` row, the sizes of a run, and timing helpers."""

from __future__ import annotations

import dataclasses
import os
import statistics
import subprocess
import sys
import time
from collections.abc import Callable, Sequence
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]


@dataclasses.dataclass(frozen=True)
class Figure:
    """One measured figure: ``ratio = ours / baseline`` (or a custom ratio), and its target.

    A figure kept as information has the target ``"info"`` and ``met`` ``None``.
    """

    name: str
    baseline: float
    ours: float
    ratio: float
    target: str
    met: bool | None
    unit: str = "s"
    note: str = ""


@dataclasses.dataclass(frozen=True)
class Scale:
    """The sizes of one run: the issue's (``FULL``), ``--quick``'s, or the smoke test's."""

    #: Alternating rounds of the subprocess certifications (figure 1); the issue asks for >= 5.
    certify_rounds: int
    #: Provider counts of the identity dispatch (figure 2).
    dispatch_providers: tuple[int, ...]
    #: Alternating timed batches per provider count, each about ``dispatch_batch`` seconds.
    dispatch_rounds: int
    dispatch_batch: float
    #: Plugin counts of discovery and loading (figure 3): the base and the grown size.
    discovery_sizes: tuple[int, int]
    discovery_rounds: int
    #: Daemons and virtual hours of the scheduling run (figure 4), at 60-second intervals.
    daemons: int
    virtual_hours: float
    scheduling_rounds: int
    #: Alternating runs of the listener checks per interval (figure 5).
    interval_rounds: int
    #: Generated plugins of the corpus figures (6, 7), and their alternating rounds.
    corpus_plugins: int
    corpus_rounds: int
    #: Runs of the self-test (figure 8) and of the project's test command (figure 9).
    selftest_rounds: int
    suite_rounds: int
    #: Iterations of the CPU-bound loop that shows how much of a second core the machine offers.
    spin_iterations: int


FULL = Scale(
    certify_rounds=5,
    dispatch_providers=(1, 10, 100),
    dispatch_rounds=15,
    dispatch_batch=0.02,
    discovery_sizes=(1_000, 10_000),
    discovery_rounds=5,
    daemons=1_000,
    virtual_hours=24.0,
    scheduling_rounds=2,
    interval_rounds=9,
    corpus_plugins=16,
    corpus_rounds=2,
    selftest_rounds=2,
    suite_rounds=1,
    spin_iterations=15_000_000,
)
QUICK = Scale(
    certify_rounds=3,
    dispatch_providers=(1, 10, 100),
    dispatch_rounds=5,
    dispatch_batch=0.01,
    discovery_sizes=(200, 2_000),
    discovery_rounds=1,
    daemons=100,
    virtual_hours=24.0,
    scheduling_rounds=1,
    interval_rounds=3,
    corpus_plugins=4,
    corpus_rounds=1,
    selftest_rounds=1,
    suite_rounds=1,
    spin_iterations=5_000_000,
)
#: Tiny sizes for the test suite's smoke test: the logic runs, the numbers mean nothing.
SMOKE = Scale(
    certify_rounds=1,
    dispatch_providers=(1, 3),
    dispatch_rounds=1,
    dispatch_batch=0.001,
    discovery_sizes=(5, 50),
    discovery_rounds=1,
    daemons=5,
    virtual_hours=0.5,
    scheduling_rounds=1,
    interval_rounds=1,
    corpus_plugins=2,
    corpus_rounds=1,
    selftest_rounds=1,
    suite_rounds=1,
    spin_iterations=10_000,
)


def median_alternating(rounds: int, *commands: Callable[[], float]) -> list[float]:
    """Run the commands in turn ``rounds`` times; the median of each one's results."""
    samples: list[list[float]] = [[] for _ in commands]
    for _ in range(rounds):
        for i, command in enumerate(commands):
            samples[i].append(command())
    return [statistics.median(s) for s in samples]


def subprocess_env() -> dict[str, str]:
    """The environment for measured subprocesses: none of an enclosing pytest run's settings."""
    return {k: v for k, v in os.environ.items() if not k.startswith("PYTEST_")}


def timed_subprocess(args: Sequence[str], cwd: Path) -> Callable[[], float]:
    """A command that runs ``args`` and returns its wall time; a failure raises with its output."""
    env = subprocess_env()

    def run() -> float:
        start = time.perf_counter()
        done = subprocess.run(args, cwd=cwd, env=env, capture_output=True, text=True, check=False)
        elapsed = time.perf_counter() - start
        if done.returncode != 0:
            msg = f"{' '.join(args)} failed:\n{done.stdout}\n{done.stderr}"
            raise RuntimeError(msg)
        return elapsed

    return run


def python_output(code: str, *args: str) -> str:
    """Run ``python -c code args`` and return its stdout; a failure raises with its output."""
    done = subprocess.run(
        [sys.executable, "-c", code, *args],
        env=subprocess_env(),
        capture_output=True,
        text=True,
        check=False,
    )
    if done.returncode != 0:
        msg = f"benchmark worker failed:\n{done.stdout}\n{done.stderr}"
        raise RuntimeError(msg)
    return done.stdout
