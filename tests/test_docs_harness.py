"""The docs harness (``docs/_harness.py``) fails broken examples, so passing docs mean something.

Each test writes a small Markdown page, parses it with the same Sybil the docs use, and
evaluates its examples: a wrong expected output, a failing command, an unexpected exit status,
a Python example that prints something else, each fails; malformed pages fail to parse.
"""

from __future__ import annotations

import importlib.util
import sys
import textwrap
from collections.abc import Iterator
from pathlib import Path
from types import ModuleType

import pytest
from sybil.example import SybilFailure

DOCS = Path(__file__).resolve().parents[1] / "docs"


def _load_harness() -> ModuleType:
    """``docs/_harness.py``, the module ``docs/conftest.py`` imports as ``_harness``."""
    if "_harness" not in sys.modules:
        spec = importlib.util.spec_from_file_location("_harness", DOCS / "_harness.py")
        assert spec is not None
        assert spec.loader is not None
        module = importlib.util.module_from_spec(spec)
        sys.modules["_harness"] = module
        spec.loader.exec_module(module)
    return sys.modules["_harness"]


_harness = _load_harness()
PageDocument = _harness.PageDocument
match_output = _harness.match_output
page_sybil = _harness.page_sybil
parse_console = _harness.parse_console

pytest_plugins = ["pytester"]


@pytest.fixture
def page(tmp_path: Path) -> Iterator[object]:
    """``page(text)``: parse ``text`` as a docs page; its environment is closed afterwards."""
    documents: list[PageDocument] = []

    def parse(text: str) -> PageDocument:
        path = tmp_path / f"page{len(documents)}.md"
        path.write_text(textwrap.dedent(text), encoding="utf-8")
        document = page_sybil().parse(path)
        assert isinstance(document, PageDocument)
        documents.append(document)
        return document

    yield parse
    for document in documents:
        _harness.close_page(document.namespace)


def evaluate_all(document: PageDocument) -> None:
    for example in document.examples():
        example.evaluate()


def test_a_wrong_expected_output_fails(page) -> None:
    document = page(
        """
        ```console
        $ python -c "print('hello')"
        goodbye
        ```
        """
    )
    with pytest.raises(SybilFailure, match="expected line not found in order:\n    goodbye"):
        evaluate_all(document)


def test_a_failing_command_fails(page) -> None:
    document = page(
        """
        ```console
        $ python -c "import sys; print('oops'); sys.exit(3)"
        oops
        ```
        """
    )
    with pytest.raises(SybilFailure, match="exited 3, expected exit status 0"):
        evaluate_all(document)


def test_an_expected_exit_status_is_required_and_honoured(page) -> None:
    passing = page(
        """
        <!-- console: exit=3 -->
        ```console
        $ python -c "import sys; print('oops'); sys.exit(3)"
        oops
        ```
        """
    )
    evaluate_all(passing)
    failing = page(
        """
        <!-- console: exit=1 -->
        ```console
        $ python -c "print('fine')"
        ```
        """
    )
    with pytest.raises(SybilFailure, match="exited 0, expected exit status 1"):
        evaluate_all(failing)


def test_output_lines_must_come_in_order(page) -> None:
    document = page(
        """
        ```console
        $ printf 'one\\ntwo\\n'
        two
        one
        ```
        """
    )
    with pytest.raises(SybilFailure, match="before the previous expected line"):
        evaluate_all(document)


def test_a_wrong_doctest_output_fails(page) -> None:
    document = page(
        """
        ```python
        >>> 6 * 7
        41
        ```
        """
    )
    with pytest.raises(SybilFailure, match="Expected:\n    41\nGot:\n    42"):
        evaluate_all(document)


def test_a_python_block_that_raises_fails(page) -> None:
    document = page(
        """
        ```python
        raise RuntimeError("this example is broken")
        ```
        """
    )
    with pytest.raises(RuntimeError, match="this example is broken"):
        evaluate_all(document)


def test_files_commands_and_python_share_the_page_and_its_directory(page) -> None:
    document = page(
        """
        Create `pkg/greeting.txt`:

        <!-- file: pkg/greeting.txt -->
        ```text
        hello from a file block
        ```

        ```console
        $ cd pkg
        $ cat greeting.txt
        hello from a file block
        $ python -c "import sys, pathlib; print(pathlib.Path(sys.executable).parent.parent.name)"
        .venv
        ```

        ```python
        >>> from pathlib import Path
        >>> Path("greeting.txt").read_text().strip()
        'hello from a file block'
        ```
        """
    )
    evaluate_all(document)


def test_a_later_example_alone_runs_the_earlier_ones_first(page) -> None:
    # What happens when pytest-xdist hands a worker only the second half of a page.
    document = page(
        """
        Create `note.txt`:

        <!-- file: note.txt -->
        ```text
        written first
        ```

        ```console
        $ cat note.txt
        written first
        ```
        """
    )
    *_, last = document.examples()
    last.evaluate()


def test_a_failing_earlier_example_fails_the_later_one_that_builds_on_it(page) -> None:
    document = page(
        """
        ```console
        $ false
        ```

        ```console
        $ true
        ```
        """
    )
    *_, last = document.examples()
    with pytest.raises(SybilFailure, match="the example at line 2, which this one builds on"):
        last.evaluate()


def test_the_wildcard_matches_inside_a_line_and_stands_for_skipped_lines() -> None:
    output = "header\nseed: 12345\nnoise\nverdict: CONFORMANT\n"
    assert match_output(["seed: ...", "...", "verdict: CONFORMANT"], output) is None
    assert match_output(["verdict:   CONFORMANT  "], output) is None  # whitespace collapses
    assert match_output(["...: CONFORMANT"], "x: NOT CONFORMANT") is not None
    assert match_output(["seed"], output) is not None  # a whole line, not a substring


def test_console_blocks_parse_commands_continuations_and_options() -> None:
    (first, second) = parse_console("$ echo a \\\n  b\na b\n\n$ false\n", "exit=1")
    assert (first.command, first.expected, first.status) == ("echo a \\\n  b", ("a b",), 0)
    assert (second.command, second.expected, second.status) == ("false", (), 1)
    with pytest.raises(ValueError, match="comes before any"):
        parse_console("output\n$ true\n")
    with pytest.raises(ValueError, match="unknown console option"):
        parse_console("$ true\n", "cwd=/tmp")


@pytest.mark.parametrize(
    ("text", "words"),
    [
        pytest.param("```bash\necho never run\n```\n", "would not run", id="a bash block"),
        pytest.param(
            "Some prose.\n\n<!-- file: secret.py -->\n```python\nx = 1\n```\n",
            "must be introduced by text naming it",
            id="a file block its text does not name",
        ),
        pytest.param(
            "Write `../up.txt`:\n<!-- file: ../up.txt -->\n```text\nx\n```\n",
            "must stay inside the page directory",
            id="a file outside the page",
        ),
        pytest.param(
            "<!-- console: exit=1 -->\n\n```console\n$ false\n```\n",
            "must be on the line right before a fenced block",
            id="a detached directive",
        ),
        pytest.param(
            "<!-- skip: next -->\n```python\nx = 1\n```\n", "needs a reason", id="a bare skip"
        ),
    ],
)
def test_malformed_pages_fail_to_parse(tmp_path: Path, text: str, words: str) -> None:
    path = tmp_path / "bad.md"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(ValueError, match=words):
        page_sybil().parse(path)


def test_a_skip_with_a_reason_skips(page) -> None:
    document = page(
        """
        <!-- skip: next "it needs the network" -->
        ```console
        $ false
        ```
        """
    )
    with pytest.raises(Exception, match="it needs the network") as caught:
        evaluate_all(document)
    assert type(caught.value).__name__ in {"SkipTest", "Skipped"}


def test_a_broken_page_fails_a_pytest_run(pytester: pytest.Pytester) -> None:
    pytester.makeconftest(
        f"""
        import sys
        sys.path.insert(0, {str(DOCS)!r})
        from _harness import page_sybil
        pytest_collect_file = page_sybil(path={str(pytester.path)!r}).pytest()
        """
    )
    pytester.makefile(".md", good="```console\n$ echo right\nright\n```\n")
    pytester.makefile(".md", broken="```console\n$ echo right\nwrong\n```\n")
    result = pytester.runpytest("-p", "no:cacheprovider")
    result.assert_outcomes(passed=1, failed=1)
    result.stdout.fnmatch_lines(["*broken.md*", "*expected line not found in order:*", "*wrong*"])
