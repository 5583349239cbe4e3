"""KC-PL-011 judges the tools a host would offer the model: a tool's own ``requires_env`` is
set to placeholders (as the manifest's are), and a tool whose ``check_fn`` is still false is not
judged (no host calls it), which the check says; a tool with no such check is judged as ever.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

OFFERED = Path(__file__).resolve().parent / "plugins_offered"


@pytest.fixture(scope="module")
def report(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    workdir = tmp_path_factory.mktemp("offered")
    args = [sys.executable, "-m", "pytest", "--kora-conformance", "-p", "no:cacheprovider"]
    for name in ("kct_token_tool", "kct_dormant_tool"):
        args += ["--kora-plugin", str(OFFERED / name)]
    args += ["--kora-report", "r.json", "--kora-seed", "11"]
    env = {k: v for k, v in os.environ.items() if not k.startswith(("KORA_", "PYTEST_", "KCT_"))}
    env["HOME"] = str(workdir)
    done = subprocess.run(
        args, cwd=workdir, env=env, capture_output=True, text=True, timeout=300, check=False
    )
    path = workdir / "r.json"
    assert path.is_file(), done.stdout + done.stderr
    data: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
    data["output"] = done.stdout + done.stderr
    return data


def _check(report: dict[str, Any], name: str, check_id: str) -> dict[str, Any]:
    target = next(t for t in report["targets"] if t["name"] == name)
    return next(c for c in target["checks"] if c["id"] == check_id)


def test_a_tool_is_judged_with_its_own_requires_env_given_placeholders(
    report: dict[str, Any],
) -> None:
    check = _check(report, "kct_token_tool", "KC-PL-011")

    assert check["outcome"] == "passed", check
    assert check["message"] == ""


def test_a_tool_the_host_would_never_offer_is_not_judged_and_the_check_says_so(
    report: dict[str, Any],
) -> None:
    check = _check(report, "kct_dormant_tool", "KC-PL-011")

    assert check["outcome"] == "passed", check
    assert "tool 'kct_dormant'" in check["message"]
    assert "check_fn" in check["message"]
    assert "kct_ping" not in check["message"]
