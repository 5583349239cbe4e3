"""The README's two commands, parsed by Sybil and checked like the other docs' examples.

The main command's setup (``python3 -m venv .venv && .venv/bin/pip install -q -e .``) needs the
package index, which tests do not use: its shape is checked, and the page's environment stands in
for it (a virtual environment at ``.venv`` with the project importable). The operator command
after it then runs as written. The test command is never run from inside the tests it starts:
it must be exactly what ``.ci/run`` extracts and runs, install the extra that holds the test
tools, and run a pytest whose configured paths include these docs.
"""

from __future__ import annotations

import re
import subprocess
import sys
from collections.abc import Iterable, Iterator

import pytest
from _harness import REPO_ROOT, PageDocument, fenced_blocks, match_output, split_commands
from sybil import Document, Example, Region, Sybil

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - exercised on 3.10 only
    import tomli as tomllib

README = REPO_ROOT / "README.md"
_VERDICT = re.compile(r"`(?P<verdict>[\w.-]+ [\w.+-]+: CONFORMANT)`")
_INLINE_COMMAND = re.compile(r"`(?P<command>\.venv/bin/[^`]+)`")
_MARKED = re.compile(r"<!-- (?P<name>[\w-]+) -->\n(?P<inside>.*?)<!-- /(?P=name) -->", re.DOTALL)


def _pyproject() -> dict:
    return tomllib.loads((REPO_ROOT / "pyproject.toml").read_text(encoding="utf-8"))


def _setup_is_venv_and_install(commands: list[str], target: str) -> None:
    assert commands[0] == "python3 -m venv .venv", commands
    assert commands[1] == f".venv/bin/pip install -q -e {target}", commands


def _run_in_page(example: Example, command: str) -> str | None:
    """Run a README command (one that uses the ``.venv`` it set up) in the README's page and
    check what it prints: a certification's verdict, or which identity won."""
    document = example.document
    assert isinstance(document, PageDocument)
    run = document.open_page().run(command)
    if run.status != 0:
        return f"{command!r} exited {run.status}:\n{run.output}"
    if "--kora-conformance" in command:
        # The README names the verdict it prints; otherwise any conformant verdict will do.
        named = _VERDICT.search(document.text)
        expected = named["verdict"] if named else "...: CONFORMANT..."
    elif " identity " in f"{command} ":
        expected = "identity supplied by plugin '...'"
    else:
        return None
    return match_output([expected], run.output)


def check_main_command(example: Example) -> str | None:
    commands = split_commands(example.parsed)
    _setup_is_venv_and_install(commands[:-1], ".")
    assert commands[-1].startswith(".venv/bin/"), commands
    return _run_in_page(example, example.parsed.split("&&")[-1].strip())


def check_inline_command(example: Example) -> str | None:
    return _run_in_page(example, example.parsed)


def _ci_extraction() -> str:
    """The test command as ``.ci/run`` extracts it from the README, by its own pipeline."""
    script = (REPO_ROOT / ".ci" / "run").read_text(encoding="utf-8")
    found = re.search(r"^command=\$\((?P<pipeline>.*?)\)$", script, re.MULTILINE | re.DOTALL)
    assert found is not None, ".ci/run no longer assigns command=$(...); update this test"
    done = subprocess.run(
        ["bash", "-c", found["pipeline"]],
        cwd=REPO_ROOT,
        capture_output=True,
        text=True,
        check=True,
    )
    return done.stdout.strip()


def check_test_command(example: Example) -> str | None:
    command = example.parsed.strip()
    extracted = _ci_extraction()
    if command != extracted:
        return f".ci/run extracts {extracted!r}, the README shows {command!r}"
    commands = split_commands(command)
    _setup_is_venv_and_install(commands[:-1], ".[test]")
    assert commands[-1].startswith(".venv/bin/pytest"), commands
    config = _pyproject()
    extra = " ".join(config["project"]["optional-dependencies"]["test"])
    for tool in ("pytest-xdist", "sybil"):
        assert tool in extra, f"the test extra lacks {tool}, which the test command needs"
    testpaths = config["tool"]["pytest"]["ini_options"]["testpaths"]
    assert "docs" in testpaths, f"testpaths {testpaths} leave out docs: the docs would not run"
    return None


_CHECKS = {"main-command": check_main_command, "test-command": check_test_command}


def readme_commands(document: Document) -> Iterable[Region]:
    """The bash block inside each marked section; any other README block is an error."""
    regions = []
    covered = []
    for section in _MARKED.finditer(document.text):
        check = _CHECKS.get(section["name"])
        if check is None:
            continue
        inner = [
            b
            for b in fenced_blocks(document)
            if section.start() <= b.start and b.end <= section.end()
        ]
        assert len(inner) == 1, f"README section {section['name']} needs exactly one block"
        regions.append(Region(inner[0].start, inner[0].end, inner[0].body.strip(), check))
        covered.append((section.start(), section.end()))
    for block in fenced_blocks(document):
        if not any(start <= block.start < end for start, end in covered):
            msg = f"README.md has a {block.language or 'plain'} block outside the checked sections"
            raise ValueError(msg)
    for inline in _INLINE_COMMAND.finditer(document.text):
        if not any(start <= inline.start() < end for start, end in covered):
            regions.append(
                Region(inline.start(), inline.end(), inline["command"], check_inline_command)
            )
    return sorted(regions, key=lambda region: region.start)


def _examples() -> list[Example]:
    sybil = Sybil(parsers=[readme_commands], document_types={".md": PageDocument})
    return list(sybil.parse(README).examples())


EXAMPLES = _examples()


@pytest.fixture(scope="module", autouse=True)
def _close_pages() -> Iterator[None]:
    yield
    documents = {id(e.document): e.document for e in EXAMPLES}
    for document in documents.values():
        if isinstance(document, PageDocument) and document.page is not None:
            document.page.close()


def test_readme_has_both_commands() -> None:
    names = [e.region.evaluator.__name__ for e in EXAMPLES]
    assert names.count("check_main_command") == names.count("check_test_command") == 1


@pytest.mark.parametrize("example", EXAMPLES, ids=lambda e: f"line {e.line}")
def test_readme_command(example: Example) -> None:
    example.evaluate()
