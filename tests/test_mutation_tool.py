"""``tools/mutation.py``: generating, sampling, applying and restoring mutants, reading verdicts.

Generation needs cosmic-ray (the ``mutation`` extra); the rest is the tool's own code. The one
test that certifies anything is marked slow.
"""

from __future__ import annotations

import hashlib
import importlib.util
import json
import sys
from pathlib import Path
from types import ModuleType

import pytest

REPO = Path(__file__).resolve().parents[1]
TOOL = REPO / "tools" / "mutation.py"

TINY = """\
from __future__ import annotations


def pick(x: int | None, y: int = 1) -> int | None:
    if x is None or y > 2:
        return x
    return x + y
"""


@pytest.fixture(scope="module")
def tool() -> ModuleType:
    spec = importlib.util.spec_from_file_location("kct_mutation_tool", TOOL)
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up while building
    try:
        spec.loader.exec_module(module)
    finally:
        del sys.modules[spec.name]
    return module


def _mutants(tool: ModuleType, spec: list[tuple[str, int, int]]) -> list[object]:
    return [
        tool.Mutant(module, "core/NumberReplacer", k, line, 0, "runtime")
        for k, (module, line, _) in enumerate(spec)
    ]


def test_mutants_are_generated_outside_postponed_annotations(
    tool: ModuleType, tmp_path: Path
) -> None:
    pytest.importorskip("cosmic_ray")
    (tmp_path / "tiny.py").write_text(TINY, encoding="utf-8")

    mutants, skipped = tool.generate(tmp_path, "tiny.py", "runtime")

    operators = {(m.operator, m.line) for m in mutants}
    assert ("core/ReplaceBinaryOperator_Add_Sub", 7) in operators
    assert ("core/ReplaceOrWithAnd", 5) in operators
    assert ("core/ReplaceComparisonOperator_Gt_Lt", 5) in operators
    # The `int | None` annotations of line 4 are strings nobody evaluates: left out.
    assert skipped > 0
    assert not [m for m in mutants if m.line == 4 and "BitOr" in m.operator]
    for mutant in mutants:
        code = tool.mutated_source(TINY, mutant)
        assert code != TINY, mutant.id
        compile(code, "tiny.py", "exec")


def test_annotations_are_mutated_where_they_are_evaluated(tool: ModuleType, tmp_path: Path) -> None:
    pytest.importorskip("cosmic_ray")
    (tmp_path / "eager.py").write_text(TINY.split("\n", 1)[1], encoding="utf-8")

    mutants, skipped = tool.generate(tmp_path, "eager.py", "runtime")

    assert skipped == 0
    assert [m for m in mutants if m.line == 3 and "BitOr" in m.operator]


def test_a_mutant_that_is_not_python_is_told_apart(tool: ModuleType) -> None:
    # cosmic-ray's Mul_Pow turns the bare `*` of a keyword-only signature into `**`.
    assert not tool.compiles("def f(self, **, model=1):\n    pass\n", "m.py")
    assert tool.compiles("def f(self, *, model=1):\n    pass\n", "m.py")


def test_a_mutant_is_applied_and_the_exact_bytes_restored(tool: ModuleType, tmp_path: Path) -> None:
    path = tmp_path / "module.py"
    original = b"x = 1\r\ny = 2"  # CRLF and no final newline: restored byte for byte
    path.write_bytes(original)

    with tool.applied(path, "x = 1\ny = 3\n", "pkg/module.py") as diff:
        assert path.read_text(encoding="utf-8") == "x = 1\ny = 3\n"
        assert "+y = 3" in diff
        assert "a/pkg/module.py" in diff
    assert path.read_bytes() == original

    with pytest.raises(KeyboardInterrupt), tool.applied(path, "broken(\n"):
        raise KeyboardInterrupt
    assert path.read_bytes() == original


def test_the_verdict_is_the_exit_status_and_the_report_names_the_checks(
    tool: ModuleType, tmp_path: Path
) -> None:
    report = tmp_path / "report.json"
    checks = [
        {"id": "KC-RT-001", "outcome": "failed", "expected": "the order"},
        {"id": "KC-RT-007", "outcome": "failed", "expected": "within 30 s (--kora-timeout)"},
        {"id": "KC-RT-009", "outcome": "warned", "expected": ""},
        {"id": "KC-RT-002", "outcome": "passed", "expected": ""},
    ]
    report.write_text(
        json.dumps({"verdict": "not-conformant", "targets": [{"checks": checks}]}),
        encoding="utf-8",
    )

    killed = tool.read_verdict(report, 1, 3.0, "")
    survived = tool.read_verdict(tmp_path / "absent.json", 0, 3.0, "")
    timed_out = tool.read_verdict(tmp_path / "absent.json", None, 240.0, "")

    assert killed.status == "killed"
    assert killed.failed == ["KC-RT-001", "KC-RT-007"]
    assert killed.check_timeouts == ["KC-RT-007"]
    assert killed.warned == ["KC-RT-009"]
    assert survived.status == "survived"
    assert survived.verdict is None
    assert timed_out.status == "timeout"


def test_sampling_is_reproducible_and_spread_over_modules_and_sites(tool: ModuleType) -> None:
    # Module a: three sites with three mutants each; module b: one site with three.
    spec = [("a.py", line, k) for line in (1, 2, 3) for k in range(3)]
    spec += [("b.py", 9, k) for k in range(3)]
    mutants = _mutants(tool, spec)

    first = tool.sample(mutants, 4, 7)

    assert first == tool.sample(mutants, 4, 7)
    assert len(set(first)) == 4
    assert sorted(m.module for m in first) == ["a.py", "a.py", "b.py", "b.py"]
    assert len({m.line for m in first if m.module == "a.py"}) == 2
    assert sorted(tool.sample(mutants, None, 7), key=lambda m: m.occurrence) == mutants
    assert tool.sample(mutants, 6, 7)[:4] == first  # a larger sample extends a smaller one
    assert {m.id for s in range(20) for m in tool.sample(mutants, 4, s)} > {m.id for m in first}


def test_scores_leave_out_triaged_equivalents_and_the_summary_lists_survivors(
    tool: ModuleType,
) -> None:
    def record(n: int, status: str) -> dict[str, object]:
        return {
            "id": f"m.py@op#{n}",
            "module": "m.py",
            "line": n,
            "operator": "core/AddNot",
            "status": status,
            "warned": [],
            "diff": f"-a{n}\n+b{n}\n",
        }

    records = [record(1, "killed"), record(2, "timeout"), record(3, "survived")]
    records += [record(4, "survived"), record(5, "incompetent")]
    triage = {"m.py@op#4": {"class": "equivalent", "reason": "the branch cannot be reached"}}

    total = tool.scores(records, triage)
    summary = tool.render_summary("runtime", records, triage)

    assert (total["killed"], total["timeouts"], total["survived"]) == (2, 1, 2)
    assert total["raw"] == pytest.approx(0.5)
    assert total["adjusted"] == pytest.approx(2 / 3)
    assert (total["mutants"], total["incompetent"]) == (4, 1)
    assert "`m.py:3` core/AddNot — untriaged" in summary
    assert "`m.py:4` core/AddNot — equivalent" in summary
    assert "the branch cannot be reached" in summary
    assert "+b3" in summary


@pytest.mark.slow
def test_a_campaign_certifies_a_copy_and_leaves_the_checkout_alone(
    tool: ModuleType, tmp_path: Path
) -> None:
    pytest.importorskip("cosmic_ray")
    module = REPO / "plugins" / "kora" / "__init__.py"
    before = hashlib.sha256(module.read_bytes()).hexdigest()

    status = tool.main(
        [
            *("--campaign", "plugins", "--module", "plugins/kora/__init__.py", "--sample", "1"),
            # Seed 2 picks `if not env_flag(...)` in the provider: Kora declines by default.
            *("--seed", "2", "--out", str(tmp_path), "--triage", str(tmp_path / "none.json")),
        ]
    )

    assert status == 0
    document = json.loads((tmp_path / "plugins.json").read_text(encoding="utf-8"))
    assert document["preflight"]["plugins/kora"]["baseline_seconds"] > 0
    [mutant] = document["mutants"]
    assert mutant["line"] == 52
    assert mutant["status"] == "killed"
    assert mutant["failed"]  # a check failed: the kit judged the mutated plugin
    assert mutant["diff"].startswith("--- a/plugins/kora/__init__.py")
    assert (tmp_path / "plugins.md").read_text(encoding="utf-8").startswith("# Mutation")
    assert hashlib.sha256(module.read_bytes()).hexdigest() == before
