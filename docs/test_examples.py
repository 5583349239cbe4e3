"""The CI files in ``docs/examples/``: valid, shown verbatim in ``ci.md`` (the ecosystem workflow
in ``ecosystem.md``), and running exactly the certification commands that ``ci.md``'s console
examples run (and so the test suite proves), or, for the ecosystem workflow, commands the kit's
command line accepts."""

from __future__ import annotations

import configparser
import re
import shlex
from pathlib import Path

import pytest
import yaml
from _harness import ConsoleCommand, fenced_blocks, page_sybil
from sybil import Document

import kora_conformance
from kora_conformance import _cli

DOCS = Path(__file__).resolve().parent
EXAMPLES = DOCS / "examples"
ECOSYSTEM_WORKFLOW = EXAMPLES / "kora-ecosystem.yml"
WORKFLOWS = sorted(p for p in EXAMPLES.glob("*.yml") if p != ECOSYSTEM_WORKFLOW)
CI_PAGE = DOCS / "ci.md"
ECOSYSTEM_PAGE = DOCS / "ecosystem.md"


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
    assert ECOSYSTEM_WORKFLOW.is_file()


@pytest.mark.parametrize(
    ("path", "page"),
    [
        *((p, CI_PAGE) for p in [*WORKFLOWS, EXAMPLES / "tox.ini"]),
        (ECOSYSTEM_WORKFLOW, ECOSYSTEM_PAGE),
    ],
    ids=lambda p: p.name,
)
def test_page_shows_the_file_verbatim(path: Path, page: Path) -> None:
    document = Document(page.read_text(encoding="utf-8"), str(page))
    bodies = [block.body for block in fenced_blocks(document)]
    assert path.read_text(encoding="utf-8") in bodies, f"{page.name} does not show {path.name}"


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
    for path in [*WORKFLOWS, ECOSYSTEM_WORKFLOW, EXAMPLES / "tox.ini"]:
        assert _kit_pins(path.read_text(encoding="utf-8")) == {f"{minor}.*"}, path.name


def _kit_commands(job: dict) -> list[str]:
    return [
        _normal(step["run"]) for step in job["steps"] if "kora_conformance" in step.get("run", "")
    ]


def test_the_ecosystem_workflow_shards_a_matrix_and_merges_every_shard() -> None:
    workflow = yaml.safe_load(ECOSYSTEM_WORKFLOW.read_text(encoding="utf-8"))
    certify, merge = workflow["jobs"]["certify"], workflow["jobs"]["merge"]
    shards = certify["strategy"]["matrix"]["shard"]
    (command,) = _kit_commands(certify)

    # The matrix is 1..N and the command names N: each job takes its share, all shares taken.
    assert shards == list(range(1, len(shards) + 1))
    assert f"--shard ${{{{ matrix.shard }}}}/{len(shards)}" in command
    assert certify["strategy"]["fail-fast"] is False
    # The merge waits for every shard, runs even if one failed, and reads what they uploaded.
    assert merge["needs"] == "certify"
    assert merge["if"] == "always()"
    uploaded = next(s for s in certify["steps"] if "upload-artifact" in s.get("uses", ""))
    downloaded = next(s for s in merge["steps"] if "download-artifact" in s.get("uses", ""))
    assert uploaded["with"]["name"] == "kora-shard-${{ matrix.shard }}"
    assert downloaded["with"]["pattern"] == "kora-shard-*"
    assert "$GITHUB_STEP_SUMMARY" in " ".join(s.get("run", "") for s in merge["steps"])


def test_the_ecosystem_workflow_runs_commands_the_kit_accepts() -> None:
    workflow = yaml.safe_load(ECOSYSTEM_WORKFLOW.read_text(encoding="utf-8"))
    commands = [c for job in workflow["jobs"].values() for c in _kit_commands(job)]
    assert len(commands) == 2
    for command in commands:
        words = shlex.split(command.replace("${{ matrix.shard }}", "1"))
        assert words[:3] == ["python", "-m", "kora_conformance"], command
        options = _cli._parser().parse_args(words[3:])
        assert options.command in {"ecosystem", "merge"}
    # The page runs each subcommand with the options the workflow gives it.
    page = _commands_of(ECOSYSTEM_PAGE)
    for command in commands:
        flags = {w for w in command.split() if w.startswith("--")}
        subcommand = command.split()[3]
        assert any(c.split()[3:4] == [subcommand] and flags <= set(c.split()) for c in page), (
            f"ecosystem.md never runs {subcommand} with {sorted(flags)}"
        )


def _commands_of(page: Path) -> set[str]:
    document = page_sybil().parse(page)
    return {
        _normal(command.command)
        for example in document.examples()
        if isinstance(example.parsed, list)
        for command in example.parsed
        if isinstance(command, ConsoleCommand)
    }
