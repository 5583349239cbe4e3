"""Environments for targets that need one: a virtual environment per target, holding the kit and
the target's packages, and checkouts of pinned repositories.

``uv`` builds them when it is available (``pip install 'kora-conformance[ecosystem]'`` brings
it): with its cache, an environment of the kit's thirty-odd packages takes about a second
instead of the half-minute or more of ``python -m venv`` and pip. Without it, the standard
library's ``venv`` and pip do the same, more slowly. Every failure comes back as
:class:`InstallFailed` with the tool's own last words, for the target's ``UNINSTALLABLE``
result.
"""

from __future__ import annotations

import dataclasses
import os
import shutil
import subprocess
import sys
import threading
import time
from collections.abc import Mapping, Sequence
from pathlib import Path

from kora_conformance._errors import KitError

__all__ = ["Command", "InstallFailed", "Installer", "checkout", "find_uv", "run_command", "tail"]

#: Lines of a tool's output kept in a reason.
_TAIL_LINES = 12


class InstallFailed(KitError, RuntimeError):
    """A target could not be installed (or its repository checked out); the message says why."""


@dataclasses.dataclass(frozen=True)
class Command:
    """What running one command gave: exit status (``None`` on timeout), output, seconds."""

    status: int | None
    output: str
    seconds: float


def tail(text: str, lines: int = _TAIL_LINES) -> str:
    """The last non-blank ``lines`` lines of ``text``."""
    kept = [line.rstrip() for line in text.splitlines() if line.strip()]
    return "\n".join(kept[-lines:])


def run_command(
    args: Sequence[str | Path],
    *,
    cwd: Path | None = None,
    env: Mapping[str, str] | None = None,
    timeout: float,
) -> Command:
    """Run ``args``, stdout and stderr together; a timeout kills it and gives status ``None``."""
    started = time.perf_counter()
    try:
        done = subprocess.run(
            [str(a) for a in args],
            cwd=cwd,
            env=dict(env) if env is not None else None,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
            errors="replace",
            timeout=timeout,
            check=False,
        )
    except subprocess.TimeoutExpired as exc:
        output = exc.output if isinstance(exc.output, str) else (exc.output or b"").decode()
        return Command(None, output, time.perf_counter() - started)
    except OSError as exc:
        return Command(127, f"{args[0]}: {exc}", time.perf_counter() - started)
    return Command(done.returncode, done.stdout, time.perf_counter() - started)


def find_uv() -> str | None:
    """The ``uv`` executable: on ``PATH``, or the one the ``uv`` package installed."""
    found = shutil.which("uv")
    if found:
        return found
    try:
        from uv import find_uv_bin  # type: ignore[import-not-found,unused-ignore]  # noqa: PLC0415
    except ImportError:
        return None
    try:
        return str(find_uv_bin())
    except FileNotFoundError:
        return None


def _python_in(env_dir: Path) -> Path:
    return env_dir / ("Scripts/python.exe" if os.name == "nt" else "bin/python")


def _kit_checkout() -> Path | None:
    """The source checkout the running kit comes from, if it runs from one (an editable
    install); environments then get a wheel built from it rather than a published release."""
    root = Path(__file__).resolve().parents[2]
    pyproject = root / "pyproject.toml"
    if pyproject.is_file() and 'name = "kora-conformance"' in pyproject.read_text("utf-8"):
        return root
    return None


class Installer:
    """Builds one environment per target and installs into it.

    :param backend: ``"uv"``, ``"pip"`` or ``"auto"`` (uv when found, else pip).
    :param kit: the requirement that installs the kit into each environment; default: a wheel
        built once from the running kit's checkout, or this kit's release from the index.
    :param scratch: where the kit's wheel is built.
    :param timeout: seconds one creation or installation may take.
    """

    def __init__(
        self, backend: str, scratch: Path, *, kit: str | None = None, timeout: float = 900.0
    ) -> None:
        uv = find_uv() if backend in {"auto", "uv"} else None
        if backend == "uv" and uv is None:
            msg = (
                "--installer uv: no uv executable found; pip install 'kora-conformance[ecosystem]'"
                " (or uv itself), or use --installer pip"
            )
            raise InstallFailed(msg)
        self.uv = uv
        self.backend = "uv" if uv is not None else "pip"
        self.scratch = scratch
        self.timeout = timeout
        self._kit = kit
        self._kit_lock = threading.Lock()

    def kit_requirement(self) -> str:
        """The kit as a requirement, building the wheel on first use (once per run)."""
        with self._kit_lock:
            if self._kit is None:
                self._kit = self._build_kit()
            return self._kit

    def _build_kit(self) -> str:
        from kora_conformance import __version__  # noqa: PLC0415

        checkout = _kit_checkout()
        if checkout is None:
            return f"kora-conformance=={__version__}"
        out = self.scratch / "kit"
        if self.uv is not None:
            args: list[str | Path] = [self.uv, "build", "--wheel", "--out-dir", out, checkout]
        else:
            args = [sys.executable, "-m", "pip", "wheel", "--no-deps", "-q", "-w", out, checkout]
        done = run_command(args, timeout=self.timeout)
        wheels = sorted(out.glob("kora_conformance-*.whl"))
        if done.status != 0 or not wheels:
            msg = f"could not build the kit's wheel from {checkout}:\n{tail(done.output)}"
            raise InstallFailed(msg)
        return str(wheels[-1])

    def create(self, env_dir: Path, requirements: Sequence[str]) -> tuple[Path, float]:
        """A new environment at ``env_dir`` with the kit and ``requirements``.

        :returns: its interpreter, and the seconds it took.
        :raises InstallFailed: the environment or an installation failed; the message ends
            with the installer's last lines.
        """
        started = time.perf_counter()
        kit = self.kit_requirement()
        python = _python_in(env_dir)
        if self.uv is not None:
            steps: list[list[str | Path]] = [
                [self.uv, "venv", "-q", "--python", sys.executable, env_dir],
                [self.uv, "pip", "install", "-q", "--python", python, kit, *requirements],
            ]
        else:
            pip: list[str | Path] = [python, "-m", "pip", "install", "-q"]
            steps = [
                [sys.executable, "-m", "venv", env_dir],
                [*pip, "--disable-pip-version-check", kit, *requirements],
            ]
        env = {k: v for k, v in os.environ.items() if k != "VIRTUAL_ENV"}
        for step in steps:
            done = run_command(step, env=env, timeout=self.timeout)
            if done.status != 0:
                what = "timed out" if done.status is None else f"exited {done.status}"
                msg = (
                    f"{self.backend} {what} installing {' '.join(requirements)}:\n"
                    f"{tail(done.output)}"
                )
                raise InstallFailed(msg)
        return python, time.perf_counter() - started


def checkout(repository: str, commit: str, dest: Path, *, timeout: float = 600.0) -> float:
    """Check ``repository`` out at ``commit`` into ``dest``; the seconds it took.

    Fetches only that commit when the server allows it (GitHub does), else the whole history.

    :raises InstallFailed: git is missing, cannot fetch the repository, or the commit is not
        in it.
    """
    started = time.perf_counter()
    git = shutil.which("git")
    if git is None:
        msg = "git is not installed; a repository target needs it"
        raise InstallFailed(msg)
    dest.mkdir(parents=True, exist_ok=True)
    env = {**os.environ, "GIT_TERMINAL_PROMPT": "0"}

    def git_run(*args: str) -> Command:
        return run_command([git, "-C", dest, *args], env=env, timeout=timeout)

    git_run("init", "-q")
    fetched = git_run("fetch", "-q", "--depth", "1", repository, commit)
    if fetched.status != 0:
        fetched = git_run("fetch", "-q", repository)
    done = git_run("checkout", "-q", "--detach", commit)
    if fetched.status != 0 or done.status != 0:
        msg = (
            f"git could not check out commit {commit} of {repository}:\n"
            f"{tail(fetched.output + done.output)}"
        )
        raise InstallFailed(msg)
    return time.perf_counter() - started
