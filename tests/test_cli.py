"""The operator command ``python -m reference_runtime identity``."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from reference_runtime._cli import main

pytestmark = pytest.mark.usefixtures("clean_kora_env", "isolated_imports")

REPO_ROOT = Path(__file__).resolve().parents[1]
JSON_KEYS = {"source", "plugin", "path", "identity", "load_errors"}
IDENTITY_KEYS = {"soul_md_content", "system_prompt_content", "identity_metadata"}


def run_module(*args: str) -> subprocess.CompletedProcess[str]:
    """Run the command in a fresh interpreter from the repository root, environment cleaned."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("KORA_", "ANTHROPIC_"))}
    return subprocess.run(
        [sys.executable, "-m", "reference_runtime", "identity", *args],
        cwd=REPO_ROOT,
        env=env,  # HOME is the test's private one (clean_kora_env)
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


@pytest.fixture
def run_main(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> Callable[..., tuple[int, str, str]]:
    """``run_main(*args)`` → (status, stdout, stderr), in-process, from the repository root."""
    monkeypatch.chdir(REPO_ROOT)

    def run(*args: str) -> tuple[int, str, str]:
        status = main(["identity", *args])
        out, err = capsys.readouterr()
        return status, out, err

    return run


def parse(stdout: str) -> dict[str, Any]:
    payload: dict[str, Any] = json.loads(stdout)
    assert set(payload) == JSON_KEYS
    assert set(payload["identity"]) == IDENTITY_KEYS
    return payload


@pytest.fixture
def prompt_file(tmp_path: Path) -> Path:
    path = tmp_path / "fallback.md"
    path.write_text("Fallback prompt for the CLI.\nSecond line.\n", encoding="utf-8")
    return path


# --- in a fresh interpreter --------------------------------------------------------------------


@pytest.mark.parametrize(
    ("enable", "winner", "agent_name"),
    [("marvin,kora", "marvin", "Marvin"), ("kora,marvin", "kora", "Kora")],
)
def test_module_reports_the_first_enabled_plugin(enable: str, winner: str, agent_name: str) -> None:
    result = run_module("--plugins-dir", "plugins", "--enable", enable, "--json")

    assert result.returncode == 0, result.stderr
    payload = parse(result.stdout)
    assert (payload["source"], payload["plugin"], payload["path"]) == ("plugin", winner, None)
    assert payload["identity"]["identity_metadata"]["agent_name"] == agent_name
    assert payload["load_errors"] == {}


def test_module_reports_the_fallback_file(prompt_file: Path) -> None:
    result = run_module(
        "--plugins-dir", "plugins", "--system-prompt-path", str(prompt_file), "--json"
    )

    assert result.returncode == 0, result.stderr
    payload = parse(result.stdout)
    assert (payload["source"], payload["plugin"], payload["path"]) == (
        "file",
        None,
        str(prompt_file),
    )
    assert payload["identity"]["system_prompt_content"] == prompt_file.read_text("utf-8")
    assert payload["identity"]["soul_md_content"] == ""


def test_module_exits_non_zero_when_the_fallback_is_missing(tmp_path: Path) -> None:
    missing = tmp_path / "missing.md"

    result = run_module("--system-prompt-path", str(missing), "--json")

    assert result.returncode != 0
    assert result.stdout == ""
    assert str(missing) in result.stderr
    assert "KORA_SYSTEM_PROMPT_PATH" in result.stderr


# --- in-process --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("args", "winner"),
    [
        (["--enable", "marvin,kora"], "marvin"),
        (["--enable", "kora,marvin"], "kora"),
        (["--enable", "marvin", "--enable", "kora"], "marvin"),
        (["--enable", "kora", "--enable", "marvin"], "kora"),
        (["--enable", " marvin , kora "], "marvin"),
        (["--enable", "marvin,kora", "--disable", "marvin"], "kora"),
        (["--enable", "kora,marvin", "--disable", "kora"], "marvin"),
    ],
)
def test_main_reports_the_winner(
    run_main: Callable[..., tuple[int, str, str]], args: list[str], winner: str
) -> None:
    status, out, err = run_main("--plugins-dir", "plugins", *args, "--json")

    assert status == 0, err
    payload = parse(out)
    assert (payload["source"], payload["plugin"]) == ("plugin", winner)


def test_main_reports_the_fallback_file(
    run_main: Callable[..., tuple[int, str, str]], prompt_file: Path
) -> None:
    status, out, _ = run_main(
        "--plugins-dir", "plugins", "--system-prompt-path", str(prompt_file), "--json"
    )

    assert status == 0
    payload = parse(out)
    assert (payload["source"], payload["plugin"], payload["path"]) == (
        "file",
        None,
        str(prompt_file),
    )


def test_main_fails_with_a_message_on_stderr_when_nothing_resolves(
    run_main: Callable[..., tuple[int, str, str]], tmp_path: Path
) -> None:
    missing = tmp_path / "missing.md"

    status, out, err = run_main("--plugins-dir", "plugins", "--system-prompt-path", str(missing))

    assert status != 0
    assert out == ""
    assert err.startswith("error: ")
    assert str(missing) in err


def test_main_uses_the_default_fallback_path_under_home(
    run_main: Callable[..., tuple[int, str, str]],
) -> None:
    status, _, err = run_main("--json")

    assert status != 0
    assert str(Path(os.environ["HOME"]) / ".kora" / "kora_system_prompt.md") in err


def test_main_reads_a_config_file(
    run_main: Callable[..., tuple[int, str, str]], tmp_path: Path
) -> None:
    config = tmp_path / "kora.yaml"
    config.write_text(
        f"plugins:\n  enabled: [kora, marvin]\n  dirs: [{REPO_ROOT / 'plugins'}]\n",
        encoding="utf-8",
    )

    status, out, err = run_main("--config", str(config), "--json")
    assert status == 0, err
    assert parse(out)["plugin"] == "kora"

    status, out, _ = run_main("--config", str(config), "--enable", "marvin,kora", "--json")
    assert parse(out)["plugin"] == "marvin"

    status, out, _ = run_main("--config", str(config), "--disable", "kora", "--json")
    assert parse(out)["plugin"] == "marvin"


def test_main_config_disabled_list_is_honoured(
    run_main: Callable[..., tuple[int, str, str]], tmp_path: Path
) -> None:
    config = tmp_path / "kora.yaml"
    config.write_text("plugins:\n  disabled: [marvin]\n", encoding="utf-8")

    status, out, _ = run_main(
        "--config", str(config), "--plugins-dir", "plugins", "--enable", "marvin,kora", "--json"
    )

    assert status == 0
    assert parse(out)["plugin"] == "kora"


def test_main_rejects_a_config_that_is_not_yaml(
    run_main: Callable[..., tuple[int, str, str]], tmp_path: Path
) -> None:
    config = tmp_path / "broken.yaml"
    config.write_text("plugins: [marvin\n", encoding="utf-8")

    status, out, err = run_main("--config", str(config), "--json")

    assert status != 0
    assert out == ""
    assert str(config) in err


def test_main_lists_load_errors_by_plugin(
    run_main: Callable[..., tuple[int, str, str]],
    make_plugin: Callable[..., Path],
    plugins_root: Path,
) -> None:
    make_plugin("kct_broken", "raise RuntimeError('kct cli load failure')\n")

    status, out, _ = run_main(
        "--plugins-dir", "plugins",
        "--plugins-dir", str(plugins_root),
        "--enable", "kct_broken,kora",
        "--json",
    )  # fmt: skip

    assert status == 0
    payload = parse(out)
    assert payload["plugin"] == "kora"
    assert list(payload["load_errors"]) == ["kct_broken"]
    assert "kct cli load failure" in payload["load_errors"]["kct_broken"]


def test_main_human_output_names_the_winner(run_main: Callable[..., tuple[int, str, str]]) -> None:
    status, out, _ = run_main("--plugins-dir", "plugins", "--enable", "marvin,kora")

    assert status == 0
    lines = out.splitlines()
    assert lines[0] == "identity supplied by plugin 'marvin'"
    assert any(line.startswith("metadata: ") and "agent_name='Marvin'" in line for line in lines)
    assert any(line.startswith("system prompt: You are Marvin") for line in lines)


def test_main_human_output_reports_shadowing_and_errors(
    run_main: Callable[..., tuple[int, str, str]],
    make_plugin: Callable[..., Path],
    plugins_root: Path,
) -> None:
    make_plugin("kora", "raise RuntimeError('kct shadowing kora')\n", manifest="name: kora\n")

    status, out, _ = run_main(
        "--plugins-dir", "plugins",
        "--plugins-dir", str(plugins_root),
        "--enable", "kora,marvin",
    )  # fmt: skip

    assert status == 0
    assert out.splitlines()[0] == "identity supplied by plugin 'marvin'"
    assert "load error: kora:" in out
    assert f"shadowed: plugin 'kora': {plugins_root / 'kora'} shadows" in out
