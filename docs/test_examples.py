"""The CI files in ``docs/examples/``: valid, shown verbatim in ``ci.md``, and running exactly the
certification commands that ``ci.md``'s console examples run (and so the test suite proves)."""

from __future__ import annotations

import configparser
import re
from pathlib import Path

import pytest
import yaml
from _harness import ConsoleCommand, fenced_blocks, page_sybil
from sybil import Document

import kora_conformance

DOCS = Path(__file__).resolve().parent
EXAMPLES = DOCS / "examples"
WORKFLOWS = sorted(EXAMPLES.glob("*.yml"))
CI_PAGE = DOCS / "ci.md"


def _normal(command: str) -> str:
    return " ".join(command.replace("\\\n", " ").split())


def _ci_commands() -> set[str]:
    """Every command ``ci.md`` runs in its console blocks."""
    document = page_sybil().parse(CI_PAGE)
    return {
        _normal(command.command)
        for example in document.examples()
        if isinstance(example.parsed, list)
        for command in example.parsed
        if isinstance(command, ConsoleCommand)
    }


def _certification_runs(workflow: dict) -> list[str]:
    return [
        _normal(step["run"])
        for job in workflow["jobs"].values()
        for step in job["steps"]
        if "--kora-conformance" in step.get("run", "")
    ]


def _kit_pins(text: str) -> set[str]:
    return set(re.findall(r"kora-conformance==([\d.*]+)", text))


def test_there_are_examples() -> None:
    assert [w.name for w in WORKFLOWS] == [
        "kora-conformance.yml",
        "kora-runtime-conformance.yml",
    ]
    assert (EXAMPLES / "tox.ini").is_file()


@pytest.mark.parametrize("path", [*WORKFLOWS, EXAMPLES / "tox.ini"], ids=lambda p: p.name)
def test_ci_page_shows_the_file_verbatim(path: Path) -> None:
    document = Document(CI_PAGE.read_text(encoding="utf-8"), str(CI_PAGE))
    bodies = [block.body for block in fenced_blocks(document)]
    assert path.read_text(encoding="utf-8") in bodies, f"ci.md does not show {path.name} as is"


@pytest.mark.parametrize("path", WORKFLOWS, ids=lambda p: p.name)
def test_workflow_parses_and_runs_the_tested_command(path: Path) -> None:
    workflow = yaml.safe_load(path.read_text(encoding="utf-8"))
    # YAML 1.1 reads the bare key "on" as true.
    triggers = workflow.get("on", workflow.get(True))
    assert set(triggers) == {"push", "pull_request"}
    (job,) = workflow["jobs"].values()
    uses = [step.get("uses", "") for step in job["steps"]]
    assert any(u.startswith("actions/checkout@") for u in uses)
    assert any(u.startswith("actions/setup-python@") for u in uses)
    runs = _certification_runs(workflow)
    assert len(runs) == 1, runs
    assert runs[0] in _ci_commands(), f"{path.name} runs {runs[0]!r}, which ci.md never runs"


def test_tox_environment_runs_the_tested_command() -> None:
    parser = configparser.ConfigParser(interpolation=None)
    parser.read(EXAMPLES / "tox.ini", encoding="utf-8")
    command = parser["testenv:kora"]["commands"].replace("{posargs}", "")
    assert _normal(command) in _ci_commands()


def test_examples_pin_this_kit_version() -> None:
    minor = ".".join(kora_conformance.__version__.split(".")[:2])
    for path in [*WORKFLOWS, EXAMPLES / "tox.ini"]:
        assert _kit_pins(path.read_text(encoding="utf-8")) == {f"{minor}.*"}, path.name
