"""KC-PL-021: the providers and platforms a plugin registers, read as the host reads them.

The plugins under ``plugins_backends/`` are certified once, KC-PL-021 alone, with a stand-in
for the host's ``agent.web_search_provider`` on the path (``host_standin``).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from kora_conformance.model._coverage import covering
from kora_conformance.suites.plugin.providers import BACKEND_KINDS, is_instance_of
from reference_runtime import HERMES_SURFACE

BACKENDS = Path(__file__).resolve().parent / "plugins_backends"
STANDIN = Path(__file__).resolve().parent / "host_standin"
PLUGINS = (
    "kct_search_backend",
    "kct_duck_backend",
    "kct_nameless_backend",
    "kct_chatty_memory",
    "kct_raising_platform",
    "kct_spawning_backend",
    "kct_busy_neighbour",
)


@pytest.fixture(scope="module")
def report(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    workdir = tmp_path_factory.mktemp("backends")
    args = [sys.executable, "-m", "pytest", "--kora-conformance", "-p", "no:cacheprovider"]
    for name in PLUGINS:
        args += ["--kora-plugin", str(BACKENDS / name)]
    args += ["--kora-report", "r.json", "-k", "KC-PL-021"]
    env = {k: v for k, v in os.environ.items() if not k.startswith(("KORA_", "PYTEST_", "KCT_"))}
    env["HOME"] = str(workdir)
    env["PYTHONPATH"] = os.pathsep.join([str(STANDIN), env.get("PYTHONPATH", "")])
    done = subprocess.run(
        args, cwd=workdir, env=env, capture_output=True, text=True, timeout=300, check=False
    )
    path = workdir / "r.json"
    assert path.is_file(), done.stdout + done.stderr
    data: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
    data["output"] = done.stdout + done.stderr
    return data


def _check(report: dict[str, Any], name: str) -> dict[str, Any]:
    target = next(t for t in report["targets"] if t["name"] == name)
    return next(c for c in target["checks"] if c["id"] == "KC-PL-021")


def test_a_provider_of_the_host_s_class_with_a_local_check_passes(report: dict[str, Any]) -> None:
    check = _check(report, "kct_search_backend")

    assert check["outcome"] == "passed", check


def test_a_provider_with_the_methods_but_not_the_host_s_class_fails(
    report: dict[str, Any],
) -> None:
    check = _check(report, "kct_duck_backend")

    assert check["outcome"] == "failed", check
    assert "agent.web_search_provider.WebSearchProvider" in check["seen"]
    assert "upstream ignores" in check["seen"]


def test_a_provider_with_a_blank_name_fails(report: dict[str, Any]) -> None:
    check = _check(report, "kct_nameless_backend")

    assert check["outcome"] == "failed", check
    assert "its name is '  '" in check["seen"]


def test_an_availability_check_that_asks_the_network_fails_though_it_catches_the_block(
    report: dict[str, Any],
) -> None:
    check = _check(report, "kct_chatty_memory")

    assert check["outcome"] == "failed", check
    assert "memory provider 'kct-ping-memory': is_available()" in check["seen"]
    assert "memory.kct.invalid" in check["seen"]


def test_a_platform_check_fn_that_raises_fails(report: dict[str, Any]) -> None:
    check = _check(report, "kct_raising_platform")

    assert check["outcome"] == "failed", check
    assert "platform 'kct_pager': check_fn()" in check["seen"]
    assert "ModuleNotFoundError" in check["seen"]


def test_a_network_attempt_from_a_thread_the_check_starts_is_the_check_s(
    report: dict[str, Any],
) -> None:
    check = _check(report, "kct_spawning_backend")

    assert check["outcome"] == "failed", check
    assert "search.kct.invalid" in check["seen"]


def test_a_thread_started_at_load_is_not_charged_to_the_availability_check(
    report: dict[str, Any],
) -> None:
    check = _check(report, "kct_busy_neighbour")

    assert check["outcome"] == "passed", check


def test_a_plugin_with_no_backend_is_not_judged_by_it() -> None:
    from kora_conformance.model._check import Profile
    from kora_conformance.suites.plugin.providers import needs_backends

    assert needs_backends(Profile(loaded=True, registered=(("tool", 2),))) is not None
    assert needs_backends(Profile(loaded=True, registered=(("tts", 1),))) is None
    assert needs_backends(Profile(loaded=True, registered=(("platform", 1),))) is None


def test_every_provider_kind_of_the_surface_is_read_and_counted_as_covered() -> None:
    objects = {m.kind for m in HERMES_SURFACE if m.params and m.params[0].name == "provider"}

    assert objects <= set(BACKEND_KINDS)
    for kind in BACKEND_KINDS:
        assert "KC-PL-021" in covering(kind), kind


def test_without_the_host_a_class_is_recognised_by_its_qualified_name() -> None:
    host = type("WebSearchProvider", (), {"__module__": "agent.web_search_provider"})
    lookalike = type("WebSearchProvider", (), {"__module__": "kct_own.providers"})
    path = "kct_no_such_host.web_search_provider:WebSearchProvider"
    host.__module__ = "kct_no_such_host.web_search_provider"

    assert is_instance_of(type("Mine", (host,), {})(), path)
    assert not is_instance_of(type("Mine", (lookalike,), {})(), path)
    assert not is_instance_of(object(), path)
