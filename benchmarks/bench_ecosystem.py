"""Figures 6 to 9: what users of the kit wait for beyond one certification: one more plugin in a
run, a corpus split over shards, the self-test, the project's own test command. Each function
takes a :class:`~bench_core.Scale` and returns its rows."""

from __future__ import annotations

import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from pathlib import Path

from bench_core import REPO, Figure, Scale, median_alternating, python_output, subprocess_env
from bench_plugins import write_certifiable_plugins
from bench_subprocess import pytest_argv, spin_pair


def kit_argv(*args: str) -> list[str]:
    """A ``kora-conformance`` command line (the smoke test swaps this for a trivial command)."""
    return [sys.executable, "-m", "kora_conformance", *args]


def _corpus(path: Path, plugins: Sequence[Path]) -> Path:
    path.write_text("".join(f"[[target]]\npath = {str(p)!r}\n\n" for p in plugins), "utf-8")
    return path


def _wall(*commands: list[str], cwd: Path) -> Callable[[], float]:
    """Run ``commands`` at once and return the wall time until the last one ends."""
    env = subprocess_env()

    def run() -> float:
        start = time.perf_counter()
        processes = [
            subprocess.Popen(
                c, cwd=cwd, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True
            )
            for c in commands
        ]
        outputs = [p.communicate()[0] for p in processes]
        elapsed = time.perf_counter() - start
        for process, output in zip(processes, outputs, strict=True):
            if process.returncode != 0:
                msg = f"{' '.join(process.args)} failed:\n{output}"  # type: ignore[arg-type]
                raise RuntimeError(msg)
        return elapsed

    return run


# --- 6. one more plugin in a run of 16 ----------------------------------------------------------

# Runs in a fresh interpreter: imports one plugin directory as a package and calls its register
# with a context that accepts what the generated plugins register; prints the seconds taken.
BY_HAND = """
import importlib.util, sys, time
from pathlib import Path

directory = Path(sys.argv[1])


class Context:
    def __getattr__(self, name):
        return lambda *args, **kwargs: None


start = time.perf_counter()
spec = importlib.util.spec_from_file_location(
    directory.name, directory / "__init__.py", submodule_search_locations=[str(directory)]
)
module = importlib.util.module_from_spec(spec)
sys.modules[directory.name] = module
spec.loader.exec_module(module)
module.register(Context())
print(time.perf_counter() - start)
"""


def marginal_cost(scale: Scale) -> list[Figure]:
    """What certifying one more plugin adds to an ecosystem run of 16, over importing and
    registering that plugin by hand in a fresh interpreter."""
    count = scale.corpus_plugins
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        plugins = write_certifiable_plugins(work / "plugins", count)
        whole = _corpus(work / "whole.toml", plugins)
        one = _corpus(work / "one.toml", plugins[:1])
        run_all = _wall(kit_argv("ecosystem", str(whole), "--jobs", "1", "--out", "a"), cwd=work)
        run_one = _wall(kit_argv("ecosystem", str(one), "--jobs", "1", "--out", "b"), cwd=work)
        run_one()  # warm the file system cache and the bytecode once
        all_time, one_time = median_alternating(scale.corpus_rounds, run_all, run_one)
        floor = statistics.median(float(python_output(BY_HAND, str(p))) for p in plugins)
    marginal = max((all_time - one_time) / (count - 1), 1e-9)
    ratio = marginal / floor
    return [
        Figure(
            f"6 one more plugin in a run of {count} / by-hand import+register",
            floor,
            marginal,
            ratio,
            "info",
            None,
            note=f"ecosystem run, --jobs 1: ({count} plugins {all_time:.1f} s - 1 plugin "
            f"{one_time:.1f} s) / {count - 1}; floor: median over the plugins of importing and "
            "registering one by hand in a fresh interpreter; the brief sets no target",
        )
    ]


# --- 7. a corpus in two shards ------------------------------------------------------------------


def sharding(scale: Scale) -> list[Figure]:
    """A corpus of 16 certified as 2 shards at once over 1 shard, against the machine's own
    ceiling (two CPU-bound processes in turn over at once), measured alternately with it."""
    count = scale.corpus_plugins
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        corpus = str(_corpus(work / "corpus.toml", write_certifiable_plugins(work / "p", count)))
        single = _wall(kit_argv("ecosystem", corpus, "--jobs", "1", "--out", "one"), cwd=work)
        shards = _wall(
            *(
                kit_argv("ecosystem", corpus, "--shard", f"{k}/2", "--jobs", "1", "--out", f"s{k}")
                for k in (1, 2)
            ),
            cwd=work,
        )
        base, ours, spin_serial, spin_parallel = median_alternating(
            scale.corpus_rounds,
            single,
            shards,
            spin_pair(scale.spin_iterations, together=False),
            spin_pair(scale.spin_iterations, together=True),
        )
    speedup = base / ours
    ceiling = spin_serial / spin_parallel
    target = min(1.6, 0.9 * ceiling)
    return [
        Figure(
            f"7 corpus of {count}, 1 shard / 2 shards at once",
            base,
            ours,
            speedup,
            f">= {target:.2f}",
            speedup >= target,
            note=f"ratio is the speed-up; the machine's parallel ceiling meanwhile: {ceiling:.2f} "
            "(two CPU-bound processes in turn / at once); target 1.6, or 0.9 x the ceiling "
            f"when that is lower; median of {scale.corpus_rounds} alternating runs",
        )
    ]


# --- 8. the self-test ---------------------------------------------------------------------------


def selftest(scale: Scale) -> list[Figure]:
    """``pytest --kora-selftest``'s wall time, against 15 s."""
    with tempfile.TemporaryDirectory() as tmp:
        run = _wall(pytest_argv("--kora-selftest"), cwd=Path(tmp))
        (ours,) = median_alternating(scale.selftest_rounds, run)
    limit = 15.0
    return [
        Figure(
            "8 self-test wall time / 15 s",
            limit,
            ours,
            ours / limit,
            "<= 15 s",
            ours <= limit,
            note=f"pytest --kora-selftest, median of {scale.selftest_rounds} runs",
        )
    ]


# --- 9. the project's test command --------------------------------------------------------------


def suite_command(scale: Scale) -> list[Figure]:
    """The README's test command's pytest run (``pytest -n 2 --dist loadscope``, in the existing
    environment)
    over collecting the same tests."""
    collect = _wall(pytest_argv("-n", "2", "--dist", "loadscope", "--collect-only"), cwd=REPO)
    run = _wall(pytest_argv("-n", "2", "--dist", "loadscope"), cwd=REPO)
    base, ours = median_alternating(scale.suite_rounds, collect, run)
    return [
        Figure(
            "9 test command (pytest -n 2 --dist loadscope) / its collection",
            base,
            ours,
            ours / base,
            "info",
            None,
            note="wall time of the README's test command without creating the environment and "
            "installing into it; the brief sets no target",
        )
    ]
