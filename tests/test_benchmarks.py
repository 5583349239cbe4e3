"""A smoke test of the benchmark harness (``benchmarks/run.py``): every figure's code runs at tiny
sizes and yields well-formed rows. Timings are never asserted: the harness measures them, this
test only checks that it can.
"""

from __future__ import annotations

import json
import math
import sys
from collections.abc import Iterator
from pathlib import Path
from types import ModuleType

import pytest

BENCHMARKS = Path(__file__).resolve().parents[1] / "benchmarks"


@pytest.fixture(scope="module")
def bench() -> Iterator[ModuleType]:
    """``benchmarks/run.py`` imported as a module, with its siblings importable."""
    import importlib.util

    sys.path.insert(0, str(BENCHMARKS))
    try:
        spec = importlib.util.spec_from_file_location("bench_run", BENCHMARKS / "run.py")
        assert spec is not None
        assert spec.loader is not None
        module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)
        yield module
    finally:
        sys.path.remove(str(BENCHMARKS))
        for name in (
            "bench_core",
            "bench_plugins",
            "bench_in_process",
            "bench_subprocess",
            "bench_ecosystem",
        ):
            sys.modules.pop(name, None)


@pytest.fixture
def trivial_pytest(bench: ModuleType, monkeypatch: pytest.MonkeyPatch) -> None:
    """The certifying figures run ``python -c pass`` instead of pytest or the kit's command: their
    logic, not their minutes (each real certification starts pytest and imports the anthropic
    SDK; figure 9 would run this very test suite)."""

    def trivial(*args: str) -> list[str]:
        return [sys.executable, "-c", "pass"]

    for module, name in (
        ("bench_subprocess", "pytest_argv"),
        ("bench_ecosystem", "pytest_argv"),
        ("bench_ecosystem", "kit_argv"),
    ):
        monkeypatch.setattr(sys.modules[module], name, trivial)


def _well_formed(row: dict[str, object]) -> None:
    assert set(row) == {"name", "baseline", "ours", "ratio", "target", "met", "unit", "note"}
    for field in ("baseline", "ours", "ratio"):
        value = row[field]
        assert isinstance(value, float)
        assert math.isfinite(value)
        assert value > 0, (row["name"], field, value)
    assert isinstance(row["name"], str)
    assert row["name"]
    assert isinstance(row["target"], str)
    assert row["target"]
    # A figure kept as information has no target to meet.
    assert isinstance(row["met"], bool) == (row["target"] != "info"), row
    assert row["met"] is None or isinstance(row["met"], bool)


@pytest.mark.usefixtures("isolated_imports", "trivial_pytest")
def test_every_figure_yields_positive_finite_ratios_and_a_table(bench: ModuleType) -> None:
    core = sys.modules["bench_core"]
    figures, errors = bench.measure(list(bench.FIGURES), core.SMOKE)

    assert errors == []
    rows = [bench.dataclasses.asdict(f) for f in figures]
    for row in rows:
        _well_formed(row)
    # One row per figure, but one per provider count for dispatch and three for discovery
    # (the bound, the growth of loading, the growth of the configuration).
    prefixes = [str(row["name"]).split()[0] for row in rows]
    assert sorted(set(prefixes)) == [str(n) for n in range(1, 10)]
    assert prefixes.count("2") == len(core.SMOKE.dispatch_providers)
    assert prefixes.count("3") == 3
    assert len(rows) == 7 + len(core.SMOKE.dispatch_providers) + 3
    # Retired targets stay as information: the identity dispatch and the discovery growth.
    info = {r["name"] for r in rows if r["target"] == "info"}
    assert {str(n).split()[0] for n in info} == {"2", "3", "6", "9"}
    table = bench.format_table(figures)
    assert table[0].split() == ["figure", "baseline", "ours", "ratio", "target", "met"]
    assert len(table) == len(rows) + 1
    assert all(line.rstrip().endswith(("yes", "NO", "-")) for line in table[1:])


@pytest.mark.usefixtures("trivial_pytest")
def test_main_prints_the_table_and_writes_json(
    bench: ModuleType,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    core = sys.modules["bench_core"]
    monkeypatch.setattr(bench, "QUICK", core.SMOKE)  # --quick, made smaller still
    out = tmp_path / "figures.json"

    status = bench.main(
        ["--quick", "--only", "certification", "--only", "scheduling", "--json", str(out)]
    )

    assert status == 0
    printed = capsys.readouterr().out
    assert printed.splitlines()[0].split()[:2] == ["figure", "baseline"]
    rows = json.loads(out.read_text())
    assert [str(r["name"]).split()[0] for r in rows] == ["1", "4"]
    for row in rows:
        _well_formed(row)
        assert row["name"] in printed


def test_a_figure_that_fails_is_reported_and_the_others_still_run(
    bench: ModuleType, monkeypatch: pytest.MonkeyPatch
) -> None:
    core = sys.modules["bench_core"]

    def broken(scale: object) -> list[object]:
        msg = "no floor today"
        raise RuntimeError(msg)

    monkeypatch.setitem(bench.FIGURES, "certification", broken)
    figures, errors = bench.measure(["certification", "scheduling"], core.SMOKE)

    assert [f.name.split()[0] for f in figures] == ["4"]
    assert len(errors) == 1
    assert "no floor today" in errors[0]
