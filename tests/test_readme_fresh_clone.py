"""The README's main command, run exactly as written, from a fresh copy of the working tree.

Tests use no network, so the package index is stood in for: the command's ``python3`` is a shim
that creates the virtual environment as asked and then makes the kit's *runtime* dependencies
(and the build backend) importable in it, as if pip had installed them from the index, with
their console scripts; ``PIP_NO_INDEX`` keeps pip offline. The test extra (Sybil, xdist,
jsonschema, ...) is deliberately absent, as on a user's machine: the command must not need it.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import textwrap
from importlib import metadata
from pathlib import Path

import pytest
from packaging.requirements import Requirement

REPO = Path(__file__).resolve().parents[1]

pytestmark = pytest.mark.slow


def _main_command() -> str:
    readme = (REPO / "README.md").read_text(encoding="utf-8")
    section = re.search(r"<!-- main-command -->(.*?)<!-- /main-command -->", readme, re.DOTALL)
    assert section is not None
    block = re.search(r"```bash\n(.*?)```", section[1], re.DOTALL)
    assert block is not None
    return block[1].strip()


def _closure(*roots: str) -> dict[str, metadata.Distribution]:
    """The installed distributions ``roots`` need at run time (extras left out), by name."""
    found: dict[str, metadata.Distribution] = {}
    pending = list(roots)
    while pending:
        name = pending.pop()
        key = name.lower().replace("_", "-")
        if key in found:
            continue
        dist = metadata.distribution(name)
        found[key] = dist
        for line in dist.requires or []:
            requirement = Requirement(line)
            if requirement.marker is None or requirement.marker.evaluate({"extra": ""}):
                pending.append(requirement.name)
    return found


def _site_without_test_extra(root: Path) -> tuple[Path, list[metadata.EntryPoint]]:
    """A directory holding only the runtime dependencies and the build backend (as links)."""
    # hatchling builds the editable install, with editables; both are the test extra's so that
    # this build needs no index.
    dists = _closure("kora-conformance", "hatchling", "editables")
    del dists["kora-conformance"]  # the command installs the kit itself
    site = root / "site"
    site.mkdir()
    scripts = []
    for dist in dists.values():
        base = Path(str(dist.locate_file("")))
        tops = {Path(str(f)).parts[0] for f in dist.files or [] if not str(f).startswith("..")}
        for top in tops:
            if (base / top).exists() and not (site / top).exists():
                (site / top).symlink_to(base / top)
        scripts += [ep for ep in dist.entry_points if ep.group == "console_scripts"]
    return site, scripts


@pytest.fixture
def offline_python(tmp_path: Path) -> Path:
    site, scripts = _site_without_test_extra(tmp_path)
    shims = tmp_path / "shims"
    shims.mkdir()
    listing = "\n".join(f"{ep.name}={ep.value}" for ep in scripts)
    (tmp_path / "scripts.txt").write_text(listing)
    shim = shims / "python3"
    shim.write_text(
        textwrap.dedent(
            f"""\
            #!{sys.executable}
            import subprocess, sys, sysconfig
            from pathlib import Path
            done = subprocess.run([{sys._base_executable!r}, *sys.argv[1:]])
            args = sys.argv[1:]
            if done.returncode == 0 and args[:2] == ["-m", "venv"]:
                venv = Path(args[-1]).resolve()
                python = venv / "bin" / "python"
                purelib = subprocess.run(
                    [python, "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
                    capture_output=True, text=True, check=True,
                ).stdout.strip()
                Path(purelib, "zz_offline_index.pth").write_text({str(site)!r} + "\\n")
                for line in Path({str(tmp_path / "scripts.txt")!r}).read_text().splitlines():
                    name, _, value = line.partition("=")
                    module, _, attr = value.partition(":")
                    script = venv / "bin" / name
                    script.write_text(
                        f"#!{{python}}\\nimport sys\\nfrom {{module}} import {{attr.split('.')[0]}}"
                        f"\\nsys.exit({{attr}}())\\n"
                    )
                    script.chmod(0o755)
            sys.exit(done.returncode)
            """
        )
    )
    shim.chmod(0o755)
    return shims


def test_the_main_command_works_from_a_fresh_copy(tmp_path: Path, offline_python: Path) -> None:
    files = subprocess.run(
        ["git", "ls-files", "-co", "--exclude-standard", "-z"],
        cwd=REPO, capture_output=True, text=True, check=True,
    ).stdout.split("\0")  # fmt: skip
    clone = tmp_path / "clone"
    for name in filter(None, files):
        source = REPO / name
        if source.is_symlink():  # the suites' place in the package is a link to suites/
            (clone / name).parent.mkdir(parents=True, exist_ok=True)
            (clone / name).symlink_to(os.readlink(source))
        elif source.is_file():
            (clone / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(source, clone / name)
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("PYTEST_", "KORA_", "PIP_", "VIRTUAL_ENV", "PYTHON"))
    }
    env.update(
        PATH=f"{offline_python}:{env.get('PATH', '')}",
        HOME=str(tmp_path / "home"),
        PIP_NO_INDEX="1",
        PIP_NO_BUILD_ISOLATION="0",
        PIP_DISABLE_PIP_VERSION_CHECK="1",
    )
    done = subprocess.run(
        ["bash", "-euo", "pipefail", "-c", _main_command()],
        cwd=clone, env=env, capture_output=True, text=True, timeout=600, check=False,
    )  # fmt: skip
    assert done.returncode == 0, done.stdout[-4000:] + done.stderr[-4000:]
    assert "marvin 0.1.0: CONFORMANT" in done.stdout
    # The environment really lacks the test extra: the command did not lean on it.
    probe = subprocess.run(
        [clone / ".venv" / "bin" / "python", "-c", "import sybil"],
        capture_output=True, text=True, check=False,
    )  # fmt: skip
    assert probe.returncode != 0
