"""``tools/corpus.py``'s offline parts: reading the corpus, judging a report, the table.

The installs themselves need the package index and are not tested here.
"""

from __future__ import annotations

import argparse
import importlib.util
import shutil
import sys
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest

TOOL = Path(__file__).resolve().parents[1] / "tools" / "corpus.py"


@pytest.fixture(scope="module")
def corpus() -> ModuleType:
    spec = importlib.util.spec_from_file_location("kct_corpus_tool", TOOL)
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up while building
    try:
        spec.loader.exec_module(module)
    finally:
        del sys.modules[spec.name]
    return module


def test_the_corpus_is_read_in_file_order(corpus: ModuleType, tmp_path: Path) -> None:
    tsv = tmp_path / "published.tsv"
    tsv.write_text(
        "name\tversion\tentry_point\tform\nkct-b\t1.0\tb\tmodule\nkct-a\t0.2\ta-ep\tmodule:attr\n",
        encoding="utf-8",
    )

    plugins = corpus.read_corpus(tsv)

    assert [p.label for p in plugins] == ["kct-b==1.0 (b)", "kct-a==0.2 (a-ep)"]


def _check(check_id: str, outcome: str, message: str = "", level: str = "MUST") -> dict:
    return {"id": check_id, "level": level, "outcome": outcome, "message": message}


def test_a_reason_names_the_failed_musts_or_the_missing_host(corpus: ModuleType) -> None:
    failed = {
        "verdict": "not-conformant",
        "checks": [_check("KC-PL-001", "passed"), _check("KC-PL-003", "failed", "unknown hook")],
    }
    needs = {"verdict": "needs-host", "checks": [], "needs_host": {"module": "gateway"}}
    good = {
        "verdict": "conformant",
        "checks": [_check("KC-PL-001", "passed"), _check("KC-PL-004", "warned", level="SHOULD")],
    }

    assert corpus._reason(failed) == "KC-PL-003: unknown hook"
    assert corpus._reason(needs) == "needs host module 'gateway'"
    assert corpus._reason(good) == "2 checks ran; warnings KC-PL-004"


def test_the_table_ends_with_the_tally(corpus: ModuleType) -> None:
    plugin = corpus.Plugin("kct-a", "1.0", "a")
    rows = [
        corpus.Row(plugin, "conformant", True, "4 checks ran", 1.0, "0.19.0 on Python 3.11"),
        corpus.Row(plugin, "install-failed", False, "no | solution", 1.0),
    ]

    table = corpus.render(rows, 3, "0.19.0")

    assert "| kct-a==1.0 (a) | install-failed | no | no \\| solution |  |" in table
    assert "2 of 3 listed plugins certified" in table
    assert "verdicts: conformant 1, install-failed 1" in table
    assert table.endswith("register() completed: 1 of 2 (50.0 %)")


def test_the_rows_named_last_go_last_in_the_order_given(corpus: ModuleType) -> None:
    plugins = [corpus.Plugin(n, "1.0", n) for n in ("kct-a", "kct-b", "kct-c", "kct-d")]

    ordered = corpus.ordered(plugins, last=["kct-c", "kct-a", "kct-unlisted"])

    assert [p.name for p in ordered] == ["kct-b", "kct-d", "kct-c", "kct-a"]


def test_each_row_is_recorded_as_it_ends_and_a_rerun_skips_the_recorded(
    corpus: ModuleType, tmp_path: Path
) -> None:
    record = tmp_path / "rows.jsonl"
    a, b = corpus.Plugin("kct-a", "1.0", "a"), corpus.Plugin("kct-a", "1.0", "a-two")
    corpus.append_row(record, corpus.Row(a, "conformant", True, "4 checks ran", 2.0, "h", 1.5))
    record.write_text(record.read_text(encoding="utf-8") + '{"truncated', encoding="utf-8")

    rows = corpus.recorded_rows(record)

    assert [(r.plugin, r.verdict, r.install_seconds) for r in rows] == [(a, "conformant", 1.5)]
    assert corpus.pending([a, b], rows) == [b]


def test_a_template_is_made_once_per_interpreter(corpus: ModuleType, tmp_path: Path) -> None:
    made: list[tuple[Path, list[str], str]] = []

    def build(where: Path, requirements: list[str], python: str, template: object) -> None:
        assert template is None
        made.append((where, list(requirements), python))

    templates = corpus.Templates(tmp_path, ["kit.whl[hermes]", "hermes-agent==0.19.0"], build)

    first = templates.get("python3.11")
    again = templates.get("python3.11")
    other = templates.get("python3.13")

    assert first == again != other
    assert [(m[0], m[2]) for m in made] == [(first, "python3.11"), (other, "python3.13")]
    assert made[0][1] == ["kit.whl[hermes]", "hermes-agent==0.19.0"]


def test_a_template_that_cannot_be_made_gives_none(corpus: ModuleType, tmp_path: Path) -> None:
    templates = corpus.Templates(tmp_path, ["kit.whl"], lambda *_: "no such interpreter")

    assert templates.get("python9") is None


def test_a_given_template_is_used_for_the_first_interpreter(
    corpus: ModuleType, tmp_path: Path
) -> None:
    made: list[str] = []
    templates = corpus.Templates(
        tmp_path, ["kit.whl"], lambda where, reqs, python, t: made.append(python), given=tmp_path
    )

    assert templates.get("python3.11") == tmp_path
    assert templates.get("python3.11") == tmp_path
    assert made == []


def test_an_environment_copied_from_a_template_shares_no_file_it_changes(
    corpus: ModuleType, tmp_path: Path
) -> None:
    template = tmp_path / "template"
    (template / "lib").mkdir(parents=True)
    (template / "lib" / "module.py").write_text("old\n", encoding="utf-8")
    (template / "python").symlink_to("/usr/bin/python3")
    copy = tmp_path / "copy"

    shutil.copytree(template, copy, symlinks=True, copy_function=corpus._link)
    # What pip does to a file it upgrades: a new file put in its place.
    (copy / "lib" / "module.py.new").write_text("new\n", encoding="utf-8")
    (copy / "lib" / "module.py.new").replace(copy / "lib" / "module.py")

    assert (copy / "python").is_symlink()
    assert (template / "lib" / "module.py").read_text(encoding="utf-8") == "old\n"


def test_a_plugin_needing_a_newer_python_is_retried_with_the_next_interpreter(
    corpus: ModuleType, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    tried: list[str] = []
    # pip's own words when the pinned release's Requires-Python rules the interpreter out.
    refusal = (
        "ERROR: Ignored the following versions that require a different python version: "
        "0.5.2 Requires-Python >=3.13 | ERROR: No matching distribution found for kct==0.5.2"
    )

    def make(directory: Path, requirements: Any, python: str, template: Any = None) -> Any:
        tried.append(python)
        return refusal if python == "python3.11" else None

    monkeypatch.setattr(corpus, "make_environment", make)
    args = argparse.Namespace(hermes="0.19.0", python=["python3.11", "python3.13"], kit="kit")
    args.templates = None

    error = corpus.install(corpus.Plugin("kct", "0.5.2", "kct"), args, tmp_path / "env")

    assert error is None
    assert tried[-1] == "python3.13"
