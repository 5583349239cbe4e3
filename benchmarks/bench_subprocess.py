"""Figures 1 and 3: what runs in subprocesses (pytest certifications, discovery in fresh
interpreters). Each function takes a :class:`~bench_core.Scale` and returns its rows."""

from __future__ import annotations

import compileall
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

from bench_core import REPO, Figure, Scale, median_alternating, python_output, timed_subprocess
from bench_plugins import write_hook_plugins


def pytest_argv(*args: str) -> list[str]:
    """A ``pytest`` command line (the smoke test swaps this for a trivial command)."""
    return [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", *args]


# --- 1. certification over its floor ------------------------------------------------------------


def certification(scale: Scale) -> list[Figure]:
    """Certifying Marvin over the floor: pytest start-up plus importing the anthropic SDK."""
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        (work / "test_floor.py").write_text("import anthropic\n\n\ndef test_floor():\n    pass\n")
        floor = timed_subprocess(pytest_argv("test_floor.py"), work)
        marvin = str(REPO / "plugins" / "marvin")
        certify = timed_subprocess(
            pytest_argv("--kora-conformance", "--kora-plugin", marvin, "--kora-seed", "1"), work
        )
        floor()  # warm the file system cache and the bytecode of both commands once
        certify()
        base, ours = median_alternating(scale.certify_rounds, floor, certify)
    ratio = ours / base
    return [
        Figure(
            "1 certify marvin / pytest+anthropic floor",
            base,
            ours,
            ratio,
            "<= 1.3",
            ratio <= 1.3,
            note=f"median of {scale.certify_rounds} alternating subprocess runs",
        )
    ]


# --- 3. discovery and loading -------------------------------------------------------------------

# Runs in a fresh interpreter per measurement, so that no earlier import is cached; prints the
# CPU seconds taken to build the configuration naming every plugin, and to discover and load them
# (or, as the floor, to read and import them by hand). The work is single-threaded: CPU time is
# what it costs, less disturbed than wall time by the other jobs of a shared machine.
DISCOVERY_WORKER = """
import sys, time
from pathlib import Path

root, mode = Path(sys.argv[1]), sys.argv[2]
names = tuple(sorted(p.name for p in root.iterdir()))
if mode == "runtime":
    from reference_runtime import Runtime, RuntimeConfig

    start = time.process_time()
    config = RuntimeConfig(enabled=names, plugin_dirs=(root,), entry_point_groups=())
    configured = time.process_time()
    report = Runtime(config).load()
    elapsed = time.process_time() - configured
    assert len(report.loaded) == len(names), report.errors
    print(configured - start, elapsed)
else:
    import importlib.util
    import yaml

    loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
    hooks = []

    class Context:
        def register_hook(self, name, callback):
            hooks.append((name, callback))

    start = time.process_time()
    for directory in sorted(root.iterdir()):
        manifest = yaml.load((directory / "plugin.yaml").read_text(), Loader=loader)
        name = "floor_" + manifest["name"]
        spec = importlib.util.spec_from_file_location(
            name, directory / "__init__.py", submodule_search_locations=[str(directory)]
        )
        module = importlib.util.module_from_spec(spec)
        sys.modules[name] = module
        spec.loader.exec_module(module)
        module.register(Context())
    elapsed = time.process_time() - start
    assert len(hooks) == len(names)
    print(0.0, elapsed)
"""


class _Discovery:
    """Alternating runs of the worker; keeps the configuration times of the runtime's runs."""

    def __init__(self) -> None:
        self.configured: dict[Path, list[float]] = {}

    def run(self, root: Path, mode: str) -> Callable[[], float]:
        def once() -> float:
            configured, elapsed = map(
                float, python_output(DISCOVERY_WORKER, str(root), mode).split()
            )
            if mode == "runtime":
                self.configured.setdefault(root, []).append(configured)
            return elapsed

        return once


def discovery(scale: Scale) -> list[Figure]:
    """Discovering and loading generated directory plugins: absolute bound, then growth."""
    small, large = scale.discovery_sizes
    runs = _Discovery()
    with tempfile.TemporaryDirectory() as tmp:
        roots = {n: Path(tmp) / f"plugins{n}" for n in (small, large)}
        for n, root in roots.items():
            write_hook_plugins(root, n)
            compileall.compile_dir(root, quiet=1)  # every run reads bytecode, none writes it
        floor, ours_small, ours_large = median_alternating(
            scale.discovery_rounds,
            runs.run(roots[small], "floor"),
            runs.run(roots[small], "runtime"),
            runs.run(roots[large], "runtime"),
        )
        config_small = statistics.median(runs.configured[roots[small]])
        config_large = statistics.median(runs.configured[roots[large]])
    bound = small / 1000  # the "1,000 in <= 1 s", scaled to the size measured
    growth = ours_large / ours_small
    resolution = time.get_clock_info("process_time").resolution
    config_growth = config_large / max(config_small, resolution)
    limit = 1.1 * large / small
    return [
        Figure(
            f"3 discover+load {small:,} plugins / by-hand floor",
            floor,
            ours_small,
            ours_small / floor,
            f"<= {bound:g} s",
            ours_small <= bound,
            note=f"target on ours; CPU time; {ours_small / small * 1e6:.0f} us per plugin; "
            "floor: read each manifest and import it by hand",
        ),
        Figure(
            f"3 discover+load {large:,} / {small:,} plugins",
            ours_small,
            ours_large,
            growth,
            "info",
            None,
            note=f"CPU time; {ours_large / large * 1e6:.0f} us per plugin at {large:,} (linear: "
            f"{large / small:g}, the retired target {limit:g})",
        ),
        Figure(
            f"3 RuntimeConfig of {large:,} / {small:,} names",
            config_small,
            config_large,
            config_growth,
            "info",
            None,
            note="CPU time of RuntimeConfig(enabled=...), before Runtime.load(); its check for "
            f"duplicate names (the retired target {limit:g})",
        ),
    ]


# --- the machine's parallel ceiling -------------------------------------------------------------


# A CPU-bound process of about a second: two of them, in turn and at once, show how much of a
# second core this shared machine offers while the figure is measured.
SPIN = "import sys\ns = 0\nfor i in range(int(sys.argv[1])):\n    s += i\n"


def spin_pair(iterations: int, *, together: bool) -> Callable[[], float]:
    argv = [sys.executable, "-c", SPIN, str(iterations)]

    def run() -> float:
        start = time.perf_counter()
        if together:
            processes = [subprocess.Popen(argv) for _ in range(2)]
            codes = [process.wait() for process in processes]
        else:
            codes = [subprocess.run(argv, check=False).returncode for _ in range(2)]
        assert codes == [0, 0], codes
        return time.perf_counter() - start

    return run
