"""The kit as users get it: a wheel installed into a fresh environment, outside this repository."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import sysconfig
import zipfile
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]

pytestmark = pytest.mark.slow


def _run(*args: str | Path, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PYTEST_", "KORA_"))}
    return subprocess.run(
        [str(a) for a in args], cwd=cwd, env=env, capture_output=True, text=True, check=False
    )


def _wheel(project: Path, out: Path) -> Path:
    # No build isolation and no index: the build backend comes from this environment, so the
    # test needs no network.
    done = _run(
        sys.executable,
        "-m",
        "pip",
        "wheel",
        "--no-deps",
        "--no-build-isolation",
        "--no-index",
        "-q",
        "-w",
        out,
        project,
    )
    assert done.returncode == 0, done.stderr
    return next(out.glob(f"{project.name.replace('-', '_')}*.whl"), None) or max(
        out.glob("*.whl"), key=lambda p: p.stat().st_mtime
    )


@pytest.fixture(scope="module")
def fresh_env(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A new venv with this project's wheel and Marvin's wheel installed, nothing else.

    Third-party dependencies (anthropic, pytest, ...) come from this test environment through a
    ``.pth`` line, so nothing is downloaded; ``.pth`` files of that environment (such as this
    project's editable install) are not processed through such a line.
    """
    root = tmp_path_factory.mktemp("fresh")
    dist = root / "dist"
    kit_wheel = _wheel(REPO, dist)
    marvin_wheel = _wheel(REPO / "plugins" / "marvin", dist)
    names = zipfile.ZipFile(kit_wheel).namelist()
    assert any(n.startswith("kora_conformance/suites/") for n in names), names
    # The environment lives inside a directory plugin, as a tox or uv environment of a plugin
    # repository does: the kit must neither collect nor import that plugin outside a check.
    plugin = root / "envplug"
    plugin.mkdir()
    (plugin / "plugin.yaml").write_text(
        "name: envplug\nversion: 0.3.0\nhooks: [on_session_start]\n"
    )
    (plugin / "__init__.py").write_text(
        "def register(ctx):\n    ctx.register_hook('on_session_start', lambda **kw: None)\n"
    )
    venv = plugin / ".venv"
    made = _run(sys.executable, "-m", "venv", "--without-pip", venv)
    assert made.returncode == 0, made.stderr
    python = venv / "bin" / "python"
    purelib = Path(
        _run(
            python, "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"
        ).stdout.strip()
    )
    (purelib / "zz_test_env_deps.pth").write_text(sysconfig.get_paths()["purelib"] + "\n")
    installed = _run(
        sys.executable,
        "-m",
        "pip",
        "--python",
        python,
        "install",
        "-q",
        "--no-deps",
        "--no-index",
        kit_wheel,
        marvin_wheel,
    )
    assert installed.returncode == 0, installed.stderr
    return python


def test_suites_run_from_the_installed_wheel(fresh_env: Path, tmp_path: Path) -> None:
    where = _run(
        fresh_env, "-c", "import kora_conformance; print(kora_conformance.__file__)", cwd=tmp_path
    )
    assert where.returncode == 0, where.stderr
    source_tree = str(REPO / "kora_conformance")
    assert not where.stdout.startswith(source_tree), "the kit was imported from the source tree"

    done = _run(
        fresh_env,
        "-m",
        "pytest",
        "-p",
        "no:cacheprovider",
        "--kora-conformance",
        "--kora-plugin",
        "marvin",
        "--kora-report",
        "r.json",
        cwd=tmp_path,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    assert "marvin 0.1.0: CONFORMANT" in done.stdout
    report = json.loads((tmp_path / "r.json").read_text())
    assert report["verdict"] == "conformant"
    (target,) = report["targets"]
    assert target["route"] == "entry_point"
    assert not [c for c in target["checks"] if c["outcome"] in {"failed", "warned"}]


def test_a_shipped_mutant_fails_from_the_installed_wheel(fresh_env: Path, tmp_path: Path) -> None:
    where = _run(
        fresh_env, "-c",
        "from kora_conformance.mutants._table import mutant_dir; "
        "print(mutant_dir('id001_returns_str'))",
        cwd=tmp_path,
    )  # fmt: skip
    mutant = where.stdout.strip()
    assert "site-packages" in mutant, where.stderr
    done = _run(
        fresh_env, "-m", "pytest", "-p", "no:cacheprovider", "--kora-conformance",
        "--kora-plugin", mutant, "--kora-report", "r.json", cwd=tmp_path,
    )  # fmt: skip
    assert done.returncode == 1, done.stdout + done.stderr
    assert "NOT CONFORMANT — 1 MUST check failed: KC-ID-001" in done.stdout
    report = json.loads((tmp_path / "r.json").read_text())
    assert report["verdict"] == "not-conformant"


def test_the_identity_command_finds_pip_installed_marvin_by_entry_point(
    fresh_env: Path, tmp_path: Path
) -> None:
    done = _run(
        fresh_env, "-m", "reference_runtime", "identity", "--enable", "marvin", "--json",
        cwd=tmp_path,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    payload = json.loads(done.stdout)
    assert (payload["source"], payload["plugin"]) == ("plugin", "marvin")
    assert payload["identity"]["identity_metadata"]["agent_name"] == "Marvin"


def test_a_plugin_holding_the_environment_the_kit_runs_from_certifies(fresh_env: Path) -> None:
    plugin = fresh_env.parents[2]
    done = _run(fresh_env, "-m", "pytest", "--kora-conformance", cwd=plugin)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "envplug 0.3.0: CONFORMANT" in done.stdout
    assert "error" not in done.stdout.lower()
    assert sorted(p.name for p in plugin.iterdir()) == [".venv", "__init__.py", "plugin.yaml"]
