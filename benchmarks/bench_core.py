"""What every figure shares: the :class:`Figure` row, the sizes of a run, timing helpers, and the
generated plugins the figures measure.
"""

from __future__ import annotations

import dataclasses
import math
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
    """One measured figure: ``ratio = ours / baseline`` (or a custom ratio), and its target."""

    name: str
    baseline: float
    ours: float
    ratio: float
    target: str
    met: bool
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
    #: Generated plugins certified at once, and alternating rounds (figure 6).
    parallel_plugins: int
    parallel_rounds: int


FULL = Scale(
    certify_rounds=5,
    dispatch_providers=(1, 10, 100),
    dispatch_rounds=15,
    dispatch_batch=0.02,
    discovery_sizes=(1_000, 10_000),
    discovery_rounds=3,
    daemons=1_000,
    virtual_hours=24.0,
    scheduling_rounds=2,
    interval_rounds=9,
    parallel_plugins=16,
    parallel_rounds=3,
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
    parallel_plugins=4,
    parallel_rounds=1,
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
    parallel_plugins=2,
    parallel_rounds=1,
)


def finite_positive(*values: float) -> bool:
    """Whether every value is a positive finite number (a measurement that makes sense)."""
    return all(math.isfinite(v) and v > 0 for v in values)


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


# --- generated plugins --------------------------------------------------------------------------


def write_plugin(root: Path, name: str, source: str, hooks: Sequence[str] = ()) -> Path:
    """A directory plugin ``root/name`` with a manifest and ``__init__.py``."""
    directory = root / name
    directory.mkdir(parents=True)
    listed = ", ".join(hooks)
    (directory / "plugin.yaml").write_text(
        f"name: {name}\nversion: '0.1.0'\ndescription: generated for a benchmark\n"
        f"hooks: [{listed}]\n",
        encoding="utf-8",
    )
    (directory / "__init__.py").write_text(source, encoding="utf-8")
    return directory


IDENTITY_PROVIDER = '''\
"""An identity provider that {verb}."""

from reference_runtime import IdentitySpec

SPEC = IdentitySpec(
    "{name} persona", "You are {name}.", {{"agent_name": "{name}", "plugin_name": "{name}"}}
)


def provider(**kwargs):
    return {result}


def register(ctx):
    ctx.register_identity_provider(provider)
'''

HOOK_PLUGIN = '''\
"""A plugin with one observer hook, as most plugins are."""


def on_session_start(**kwargs):
    return None


def register(ctx):
    ctx.register_hook("on_session_start", on_session_start)
'''

LISTENER_PLUGIN = '''\
"""Listeners in the contract's three shapes, every interval a multiple of {interval} s."""

from reference_runtime import DaemonListener, PeriodicTaskSpec


class Inbox(DaemonListener):
    def __init__(self):
        self.connected = False
        self.polls = 0

    async def startup(self, coordinator=None):
        self.connected = True

    async def shutdown(self):
        self.connected = False

    async def poll(self):
        if self.connected:
            self.polls += 1


class Telemetry(DaemonListener):
    def __init__(self):
        self.persisted = 0
        self.rollups = 0

    def persist(self):
        self.persisted += 1

    def rollup(self):
        self.rollups += 1


async def _start_nothing(coordinator=None):
    pass


async def _stop_nothing():
    pass


def compact():
    pass


def register(ctx):
    inbox = Inbox.instance()
    ctx.register_dual_listener(
        "inbox", inbox, periodic_task=PeriodicTaskSpec({interval}, inbox.poll, "inbox.poll")
    )
    ctx.register_background_daemon(
        "compactor",
        _start_nothing,
        _stop_nothing,
        periodic_task=PeriodicTaskSpec({interval} * 60, compact, "compactor.compact"),
    )
    telemetry = Telemetry.instance()
    ctx.register_dual_listener(
        "telemetry",
        telemetry,
        periodic_task=PeriodicTaskSpec({interval} * 5, telemetry.persist, "telemetry.persist"),
        listener_side_tasks=[
            PeriodicTaskSpec({interval} * 60, telemetry.rollup, "telemetry.rollup")
        ],
    )
'''

CERTIFIABLE_PLUGIN = '''\
"""A generated plugin with an identity provider and a polling listener."""

from reference_runtime import DaemonListener, IdentitySpec, PeriodicTaskSpec

SPEC = IdentitySpec(
    "{name} persona", "You are {name}.", {{"agent_name": "{name}", "plugin_name": "{name}"}}
)


def provider(**kwargs):
    return SPEC


class Poller(DaemonListener):
    def __init__(self):
        self.polls = 0

    async def startup(self, coordinator=None):
        pass

    async def shutdown(self):
        pass

    def poll(self):
        self.polls += 1


def register(ctx):
    ctx.register_identity_provider(provider)
    poller = Poller.instance()
    ctx.register_dual_listener(
        "{name}_poller", poller, periodic_task=PeriodicTaskSpec(60, poller.poll, "{name}.poll")
    )
'''


def write_identity_plugins(root: Path, count: int, prefix: str) -> list[str]:
    """``count`` identity providers; all decline but the last, which claims."""
    names = [f"{prefix}{i:04d}" for i in range(count)]
    for i, name in enumerate(names):
        claims = i == count - 1
        source = IDENTITY_PROVIDER.format(
            name=name, verb="claims" if claims else "declines", result="SPEC" if claims else "None"
        )
        write_plugin(root, name, source, ["pre_agent_identity_set"])
    return names


def write_hook_plugins(root: Path, count: int) -> None:
    """``count`` plugins registering one observer hook each."""
    for i in range(count):
        write_plugin(root, f"gen{i:05d}", HOOK_PLUGIN, ["on_session_start"])


def write_listener_plugin(root: Path, name: str, interval: float) -> Path:
    """The three listener shapes with intervals of ``interval``, 5x and 60x that."""
    return write_plugin(root, name, LISTENER_PLUGIN.format(interval=interval))


def write_certifiable_plugins(root: Path, count: int) -> list[Path]:
    """``count`` plugins that certify clean, each with an identity provider and a listener."""
    return [
        write_plugin(
            root,
            f"cert{i:02d}",
            CERTIFIABLE_PLUGIN.format(name=f"cert{i:02d}"),
            ["pre_agent_identity_set"],
        )
        for i in range(count)
    ]
