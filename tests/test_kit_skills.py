"""KC-PL-022: a registered skill's SKILL.md, read as the host reads it when the model loads it.

The mutants (a Latin-1 file, a file in a directory removed as ``register`` returns) are
certified by tests/test_kit_mutants.py; here the reading itself, case by case.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from kora_conformance.suites.plugin.skills import skill_problem
from reference_runtime import Runtime, RuntimeConfig

pytestmark = pytest.mark.usefixtures("clean_kora_env", "isolated_imports")

PLUGIN = """\
from pathlib import Path

def register(ctx):
    ctx.register_skill("notes", Path(__file__).parent / {where!r})
"""


def _skill(tmp_path: Path, where: str, files: dict[str, bytes]) -> str | None:
    plugin = tmp_path / "kct_skilled"
    plugin.mkdir()
    (plugin / "plugin.yaml").write_text("name: kct_skilled\nversion: 1.0.0\n", encoding="utf-8")
    (plugin / "__init__.py").write_text(PLUGIN.format(where=where), encoding="utf-8")
    for relative, data in files.items():
        path = plugin / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)
    config = RuntimeConfig(enabled=("kct_skilled",), plugin_dirs=(tmp_path,), entry_point_groups=())
    runtime = Runtime(config)
    runtime.load()
    (record,) = runtime.registrations("kct_skilled", kind="skill")
    return skill_problem(record)


def test_a_utf8_skill_file_is_served(tmp_path: Path) -> None:
    text = "---\nname: notes\n---\nTake notes, café style.\n".encode()

    assert _skill(tmp_path, "skills/notes/SKILL.md", {"skills/notes/SKILL.md": text}) is None


def test_a_directory_holding_skill_md_is_read_through(tmp_path: Path) -> None:
    files = {"skills/notes/SKILL.md": b"Take notes.\n"}

    assert _skill(tmp_path, "skills/notes", files) is None


def test_a_directory_s_skill_md_in_latin1_is_not_served(tmp_path: Path) -> None:
    problem = _skill(
        tmp_path, "skills/notes", {"skills/notes/SKILL.md": "Caf\xe9\n".encode("latin-1")}
    )

    assert problem is not None
    assert "is not UTF-8 text" in problem
    assert "SKILL.md" in problem


def test_a_blank_skill_file_is_not_served(tmp_path: Path) -> None:
    problem = _skill(tmp_path, "SKILL.md", {"SKILL.md": b"\n  \n"})

    assert problem is not None
    assert "is empty" in problem
