"""Run the documentation as tests: every example on a page, in order, in a directory of its own.

A page (a Markdown file) gets a :class:`Page`: a temporary working directory holding a copy of
the project's ``plugins/`` and a light virtual environment at ``.venv`` whose ``python``,
``pytest`` and ``pip`` are the interpreter running the tests, with its installed packages (the
project among them). Four kinds of block run there, top to bottom:

- **file blocks**: a fenced block right after ``<!-- file: PATH -->`` is written to ``PATH``,
  relative to the page's current directory. The text just before the marker must name ``PATH``,
  so a reader knows where the file goes.
- **console blocks** (```` ```console ````): each ``$ command`` runs in ``bash`` in the page's
  current directory; ``$ cd DIR`` changes that directory for the rest of the page. The lines
  after a command are its expected output, checked loosely: each non-blank expected line must
  match a line of the real output (stdout and stderr together), in order, after runs of
  whitespace are collapsed; ``...`` inside a line matches anything, and a line that is just
  ``...`` marks skipped output. Every command must exit 0, except that
  ``<!-- console: exit=N -->`` right before the block expects ``N`` from its last command.
- **Python blocks** (```` ```python ````, doctest-style ``>>>`` or plain code, and
  ``<!-- invisible-code-block: python -->`` for setup a reader need not see) run in-process under
  Sybil, with the page's current directory as the working directory.
- **skips**: ``<!-- skip: next "why" -->`` skips the next example; the reason is required.

Shell blocks in other languages (``bash``, ``sh``, ...) are refused on pages, so no shell example
can sit in the docs without running. ``pip`` runs offline (no index, no build isolation: the
build backend comes from the test environment), which is all a local ``pip install -e .`` needs.

Examples on a page build on each other. When a test runner hands a process a later example
without the earlier ones (pytest-xdist splits a file between workers), :class:`PageDocument`
first runs the earlier ones it missed, so each example sees the page as a reader would.
"""

from __future__ import annotations

import contextlib
import dataclasses
import doctest
import importlib.metadata
import os
import re
import shlex
import shutil
import site
import subprocess
import sys
import sysconfig
import tempfile
import textwrap
import unittest
import venv
from collections.abc import Iterable, Iterator, Sequence
from pathlib import Path
from typing import Any, Final

import pytest
from sybil import Document, Example, Region, Sybil
from sybil.example import SybilFailure
from sybil.parsers.markdown import PythonCodeBlockParser, SkipParser

from reference_runtime import compat

__all__ = [
    "REPO_ROOT",
    "CommandRun",
    "ConsoleCommand",
    "Fenced",
    "Page",
    "PageDocument",
    "close_page",
    "fenced_blocks",
    "match_output",
    "page_sybil",
    "parse_console",
    "run_console",
    "split_commands",
]

REPO_ROOT: Final = Path(__file__).resolve().parents[1]

#: Seconds one command may take before it counts as hung.
COMMAND_TIMEOUT: Final = 300.0
#: Shell languages that would not run; pages use ``console`` blocks instead.
_REFUSED_LANGUAGES: Final = frozenset({"bash", "sh", "shell", "zsh", "shell-session", "pycon"})
#: How far before a file marker the prose must name the file.
_FILE_MENTION_WINDOW: Final = 600
#: Module names an example may import that the page's teardown forgets again.
_PLUGIN_MODULES: Final = ("agent", "hermes_plugins", "marvin")

_FENCED: Final = re.compile(
    r"^(?P<indent>[ \t]*)(?P<fence>`{3,}|~{3,})(?P<info>[^\n`]*)\n"
    r"(?P<body>.*?)^(?P=indent)(?P=fence)[ \t]*$",
    re.MULTILINE | re.DOTALL,
)
_DIRECTIVE: Final = re.compile(
    r"^[ \t]*<!--\s*(?P<kind>file|console):\s*(?P<argument>[^>]*?)\s*-->[ \t]*$", re.MULTILINE
)
_CD: Final = re.compile(r"^cd\s+(?P<dir>\S+)$")


# --- the page's environment ---------------------------------------------------------------------


def _bridge_lines() -> list[str]:
    """``.pth`` lines that give a new environment this interpreter's installed packages."""
    dirs = [*site.getsitepackages()]
    if site.ENABLE_USER_SITE and os.path.isdir(site.getusersitepackages()):
        dirs.append(site.getusersitepackages())
    return [f"import site; site.addsitedir({d!r})" for d in dirs]


def _console_script(python: Path, name: str) -> str | None:
    """The launcher pip would write for the installed console script ``name``."""
    found = importlib.metadata.entry_points(group="console_scripts", name=name)
    entry = next(iter(found), None)
    if entry is None:
        return None
    module, _, attribute = entry.value.partition(":")
    call = attribute.strip() or "main"
    return (
        f"#!{python}\nimport sys\nfrom {module.strip()} import {call.split('.')[0]}\n"
        f"sys.exit({call}())\n"
    )


class Page:
    """The working directory and environment one page's examples share.

    :param name: a label for the temporary directory.
    :param venv_dir: where the environment goes, relative to the working directory.
    """

    def __init__(self, name: str, *, venv_dir: str = ".venv") -> None:
        self.base = Path(tempfile.mkdtemp(prefix=f"kora-docs-{name}-"))
        self.root = self.base / "work"
        self.home = self.base / "home"
        self.home.mkdir()
        shutil.copytree(
            REPO_ROOT / "plugins",
            self.root / "plugins",
            ignore=shutil.ignore_patterns("__pycache__", "build", "dist", "*.egg-info"),
        )
        self.venv = self.root / venv_dir
        self._make_venv()
        #: The page's current directory: ``$ cd`` moves it, files and commands are relative to it.
        self.cwd = self.root
        self._saved_path = list(sys.path)
        self._saved_modules = set(sys.modules)
        self._defaults = contextlib.ExitStack()
        self._defaults.enter_context(compat.isolated_defaults())
        self._compat_was_installed = compat.is_installed()

    def _make_venv(self) -> None:
        venv.EnvBuilder(with_pip=False, symlinks=os.name != "nt").create(self.venv)
        scripts = self.venv / ("Scripts" if os.name == "nt" else "bin")
        python = scripts / ("python.exe" if os.name == "nt" else "python")
        venv_vars = {"base": str(self.venv), "platbase": str(self.venv)}
        purelib = sysconfig.get_path("purelib", vars=venv_vars)
        Path(purelib, "_kora_docs_bridge.pth").write_text(
            "\n".join(_bridge_lines()) + "\n", encoding="utf-8"
        )
        for name in ("pytest", "pip"):
            text = _console_script(python, name)
            if text is not None:
                path = scripts / name
                path.write_text(text, encoding="utf-8")
                path.chmod(0o755)
        self.bin = scripts

    def environ(self) -> dict[str, str]:
        """The environment commands run with: the page's venv first on ``PATH``, a private
        ``$HOME``, no inherited pytest, pip, Kora or Anthropic settings, no colour."""
        dropped = ("PYTEST_", "PIP_", "KORA_", "ANTHROPIC_", "PYTHON", "VIRTUAL_ENV", "COV_")
        env = {k: v for k, v in os.environ.items() if not k.startswith(dropped)}
        env.update(
            PATH=f"{self.bin}{os.pathsep}{env.get('PATH', '')}",
            VIRTUAL_ENV=str(self.venv),
            HOME=str(self.home),
            PIP_NO_INDEX="1",
            # pip reads this variable inverted: "0" turns build isolation off.
            PIP_NO_BUILD_ISOLATION="0",
            PIP_DISABLE_PIP_VERSION_CHECK="1",
            PIP_NO_INPUT="1",
            PYTHONIOENCODING="utf-8",
            PY_COLORS="0",
            NO_COLOR="1",
            COLUMNS="100",
        )
        return env

    def run(self, command: str) -> CommandRun:
        """Run ``command`` in ``bash`` in the current directory; ``cd DIR`` moves the page."""
        moved = _CD.match(command.strip())
        if moved is not None:
            target = (self.cwd / moved["dir"]).resolve()
            if not target.is_dir():
                return CommandRun(command, 1, f"cd: {moved['dir']}: No such directory\n")
            self.cwd = target
            return CommandRun(command, 0, "")
        shell = shutil.which("bash") or "/bin/sh"
        try:
            done = subprocess.run(
                [shell, "-c", command],
                cwd=self.cwd,
                env=self.environ(),
                stdout=subprocess.PIPE,
                stderr=subprocess.STDOUT,
                timeout=COMMAND_TIMEOUT,
                check=False,
            )
        except subprocess.TimeoutExpired as exc:
            output = (exc.stdout or b"").decode("utf-8", "replace")
            return CommandRun(command, None, output)
        return CommandRun(command, done.returncode, done.stdout.decode("utf-8", "replace"))

    def write(self, relative: str, text: str) -> Path:
        """Write a file block's text to ``relative`` (from the current directory)."""
        path = self.cwd / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text if text.endswith("\n") else text + "\n", encoding="utf-8")
        return path

    @contextlib.contextmanager
    def inside(self) -> Iterator[None]:
        """Make the page's current directory the process's for the ``with`` block."""
        before = os.getcwd()
        os.chdir(self.cwd)
        try:
            yield
        finally:
            os.chdir(before)

    def close(self) -> None:
        """Forget what the page's Python examples imported and remove its directory."""
        for name in [n for n in sys.modules if n not in self._saved_modules]:
            module = sys.modules[name]
            location = getattr(module, "__file__", None) or ""
            if name.partition(".")[0] in _PLUGIN_MODULES or location.startswith(str(self.base)):
                del sys.modules[name]
        if compat.is_installed() and not self._compat_was_installed:
            compat.uninstall()
        self._defaults.close()
        sys.path[:] = self._saved_path
        if not os.environ.get("KORA_DOCS_KEEP"):
            shutil.rmtree(self.base, ignore_errors=True)


@dataclasses.dataclass(frozen=True)
class CommandRun:
    """What one command did: ``status`` is ``None`` when it timed out."""

    command: str
    status: int | None
    output: str


# --- console blocks -----------------------------------------------------------------------------


@dataclasses.dataclass(frozen=True)
class ConsoleCommand:
    """One ``$ command`` of a console block, its expected output and exit status."""

    command: str
    expected: tuple[str, ...]
    status: int = 0


def parse_console(body: str, options: str = "") -> list[ConsoleCommand]:
    """Split a console block into commands; ``options`` is ``exit=N`` (for the last command).

    :raises ValueError: output before the first command, a dangling continuation, or an
        unknown option.
    """
    status = 0
    for option in options.split():
        key, _, value = option.partition("=")
        if key != "exit" or not value.isdigit():
            msg = f"unknown console option {option!r}; the one option is exit=N"
            raise ValueError(msg)
        status = int(value)
    commands: list[tuple[list[str], list[str]]] = []
    lines = body.splitlines()
    index = 0
    while index < len(lines):
        line = lines[index]
        index += 1
        if line.startswith("$ "):
            command = [line[2:]]
            while command[-1].endswith("\\"):
                if index >= len(lines):
                    msg = f"the command {command[0]!r} ends with a continuation but no next line"
                    raise ValueError(msg)
                command.append(lines[index])
                index += 1
            commands.append((command, []))
        elif not commands:
            if line.strip():
                msg = f"console block output {line!r} comes before any '$ ' command"
                raise ValueError(msg)
        else:
            commands[-1][1].append(line)
    if not commands:
        msg = "a console block needs at least one '$ ' command"
        raise ValueError(msg)
    return [
        ConsoleCommand(
            "\n".join(command),
            tuple(line for line in expected if line.strip()),
            status if i == len(commands) - 1 else 0,
        )
        for i, (command, expected) in enumerate(commands)
    ]


def _normal(line: str) -> str:
    return " ".join(line.split())


def _pattern(expected: str) -> re.Pattern[str]:
    return re.compile(".*".join(re.escape(part) for part in _normal(expected).split("...")))


def match_output(expected: Sequence[str], output: str) -> str | None:
    """Why ``output`` does not show the ``expected`` lines in order, or ``None`` when it does."""
    actual = [_normal(line) for line in output.splitlines()]
    position = 0
    for line in expected:
        if _normal(line) in {"", "..."}:
            continue
        pattern = _pattern(line)
        found = next(
            (i for i in range(position, len(actual)) if pattern.fullmatch(actual[i])), None
        )
        if found is None:
            earlier = any(pattern.fullmatch(a) for a in actual[:position])
            where = " (it appears, but before the previous expected line)" if earlier else ""
            return f"expected line not found in order{where}:\n    {line.strip()}"
        position = found + 1
    return None


def _tail(text: str, lines: int = 120) -> str:
    kept = text.splitlines()
    cut = len(kept) - lines
    shown = kept[cut:] if cut > 0 else kept
    prefix = [f"[... {cut} earlier lines]"] if cut > 0 else []
    return textwrap.indent("\n".join([*prefix, *shown]), "  | ")


def run_console(page: Page, commands: Iterable[ConsoleCommand]) -> str | None:
    """Run ``commands`` in ``page``; a failure description, or ``None`` when all behaved."""
    for command in commands:
        run = page.run(command.command)
        if run.status != command.status:
            seen = "timed out" if run.status is None else f"exited {run.status}"
            return (
                f"$ {command.command}\n{seen}, expected exit status {command.status}; "
                f"output:\n{_tail(run.output)}"
            )
        problem = match_output(command.expected, run.output)
        if problem is not None:
            return f"$ {command.command}\n{problem}\nin the real output:\n{_tail(run.output)}"
    return None


# --- Sybil: documents, lexing and evaluation ----------------------------------------------------


class PageDocument(Document):
    """A Markdown page whose examples share a :class:`Page` and run in document order."""

    def __init__(self, text: str, path: str) -> None:
        super().__init__(text, path)
        self.page: Page | None = None
        self._attempted: set[int] = set()

    def open_page(self) -> Page:
        """The page's environment, made on first use (and closed by the Sybil teardown)."""
        if self.page is None:
            self.page = Page(Path(self.path).stem)
            self.namespace["__page__"] = self.page
        return self.page

    def evaluate(self, example: Example, evaluator: Any) -> None:
        __tracebackhide__ = True
        page = self.open_page()
        for earlier in self.examples():
            if earlier.region.start >= example.region.start:
                break
            if earlier.region.start in self._attempted:
                continue
            self._attempted.add(earlier.region.start)
            try:
                with page.inside():
                    super().evaluate(earlier, earlier.region.evaluator)
            except (unittest.SkipTest, pytest.skip.Exception):
                continue
            except Exception as exc:
                msg = (
                    f"the example at line {earlier.line}, which this one builds on, failed when "
                    f"run first in this process:\n{exc}"
                )
                raise SybilFailure(example, msg) from exc
        self._attempted.add(example.region.start)
        with page.inside():
            super().evaluate(example, evaluator)


def close_page(namespace: dict[str, Any]) -> None:
    """Sybil teardown: close the page the namespace's examples ran in."""
    page = namespace.pop("__page__", None)
    if isinstance(page, Page):
        page.close()


def _page(example: Example) -> Page:
    document = example.document
    assert isinstance(document, PageDocument), "docs examples need a PageDocument"
    return document.open_page()


def _write_file(example: Example) -> str | None:
    relative, text = example.parsed
    _page(example).write(relative, text)
    return None


def _run_console(example: Example) -> str | None:
    return run_console(_page(example), example.parsed)


@dataclasses.dataclass(frozen=True)
class Fenced:
    """A fenced block, with the ``file:`` or ``console:`` directive on the line before it."""

    start: int
    end: int
    language: str
    body: str
    directive: str = ""
    argument: str = ""


def fenced_blocks(document: Document) -> list[Fenced]:
    """Every fenced block of ``document``, its body without the fence's indentation.

    :raises ValueError: a ``file:`` or ``console:`` directive that no block follows at once.
    """
    blocks = []
    attached = set()
    for match in _FENCED.finditer(document.text):
        indent = match["indent"]
        body = "".join(
            line[len(indent) :] if line.startswith(indent) else line.lstrip(" \t")
            for line in match["body"].splitlines(keepends=True)
        )
        start, directive, argument = match.start(), "", ""
        line_start = document.text.rfind("\n", 0, max(0, start - 1)) + 1
        previous = document.text[line_start:start]
        found = _DIRECTIVE.fullmatch(previous.rstrip("\n"))
        if found is not None:
            start, directive, argument = line_start, found["kind"], found["argument"]
            attached.add(line_start)
        language = (match["info"].split() or [""])[0].lower()
        blocks.append(Fenced(start, match.end(), language, body, directive, argument))
    bodies = [(m.start("body"), m.end("body")) for m in _FENCED.finditer(document.text)]
    for found in _DIRECTIVE.finditer(document.text):
        inside = any(s <= found.start() < e for s, e in bodies)
        if found.start() not in attached and not inside:
            where = f"{document.path}, {document.line_column(found.start())}"
            msg = f"{where}: {found.group(0)} must be on the line right before a fenced block"
            raise ValueError(msg)
    return blocks


def _file_regions(document: Document) -> Iterator[Region]:
    for block in fenced_blocks(document):
        if block.directive != "file":
            continue
        path = block.argument
        before = document.text[max(0, block.start - _FILE_MENTION_WINDOW) : block.start]
        if not path or path not in before:
            msg = (
                f"{document.path}, {document.line_column(block.start)}: the file block for "
                f"{path!r} must be introduced by text naming it, so readers see where it goes"
            )
            raise ValueError(msg)
        if Path(path).is_absolute() or ".." in Path(path).parts:
            msg = f"{document.path}: file block path {path!r} must stay inside the page directory"
            raise ValueError(msg)
        yield Region(block.start, block.end, (path, block.body), _write_file)


def file_blocks(document: Document) -> Iterable[Region]:
    """Parser: ``<!-- file: PATH -->`` followed by a fenced block."""
    return list(_file_regions(document))


def console_blocks(document: Document) -> Iterable[Region]:
    """Parser: ``console`` blocks, with an optional ``<!-- console: exit=N -->`` before them."""
    regions = []
    for block in fenced_blocks(document):
        if block.language != "console" or block.directive == "file":
            continue
        try:
            commands = parse_console(block.body, block.argument)
        except ValueError as exc:
            msg = f"{document.path}, {document.line_column(block.start)}: {exc}"
            raise ValueError(msg) from None
        regions.append(Region(block.start, block.end, commands, _run_console))
    return regions


def _spans(regions: Iterable[Region]) -> list[tuple[int, int]]:
    return [(r.start, r.end) for r in regions]


class PythonBlocks:
    """Parser: Python code blocks and doctests, except blocks that are files to write."""

    def __init__(self) -> None:
        flags = doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE
        self.inner = PythonCodeBlockParser(doctest_optionflags=flags)

    def __call__(self, document: Document) -> Iterable[Region]:
        files = _spans(_file_regions(document))
        return [r for r in self.inner(document) if not any(s <= r.start < e for s, e in files)]


def refuse_silent_shell(document: Document) -> Iterable[Region]:
    """Parser that yields nothing but rejects shell blocks that would not run, and a
    ``console:`` directive on a block that is not a console block."""
    for block in fenced_blocks(document):
        where = f"{document.path}, {document.line_column(block.start)}"
        if block.directive == "console" and block.language != "console":
            msg = f"{where}: a console: directive must come right before a 'console' block"
            raise ValueError(msg)
        if block.language in _REFUSED_LANGUAGES and block.directive != "file":
            msg = (
                f"{where}: a {block.language!r} block would not run; write it as a 'console' "
                "block with '$ ' prompts"
            )
            raise ValueError(msg)
    return ()


class ReasonedSkips(SkipParser):
    """Sybil's skip directive, refusing a skip without a written reason."""

    def __call__(self, document: Document) -> Iterable[Region]:
        regions = list(super().__call__(document))
        for region in regions:
            action, reason = region.parsed
            if action in {"start", "next"} and not (reason or "").strip():
                where = f"{document.path}, {document.line_column(region.start)}"
                msg = f'{where}: "skip: {action}" needs a reason: <!-- skip: {action} "why" -->'
                raise ValueError(msg)
        return regions


def page_sybil(patterns: Sequence[str] = ("*.md",), *, path: str = ".") -> Sybil:
    """The Sybil that runs the docs' pages (``path`` is relative to this file)."""
    return Sybil(
        parsers=[refuse_silent_shell, file_blocks, console_blocks, PythonBlocks(), ReasonedSkips()],
        patterns=list(patterns),
        path=str(Path(__file__).parent / path),
        document_types={".md": PageDocument},
        teardown=close_page,
    )


def split_commands(command: str) -> list[str]:
    """A shell line's ``&&``-separated commands, each normalised to single spaces."""
    return [" ".join(shlex.split(part)) for part in command.split("&&")]
