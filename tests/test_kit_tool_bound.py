"""A tool handler is waited for only so long: one that is still running at the bound on a
call is not judged for that call, and not failed; what it returns in time is judged as ever.

The plugins under tests/plugins_waiting/ are certified once, in a subprocess, with a short
check budget (the bound on a call is a twelfth of it), so the waiting costs a few seconds.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
from pathlib import Path
from typing import Any

import pytest

from kora_conformance.suites.plugin._bounded import CALL_BOUND, BoundedCalls, call_bound

WAITING = Path(__file__).resolve().parent / "plugins_waiting"
#: The check budget of the certification below (roomy, for a loaded machine): its bound on a
#: call is 3 s.
BUDGET = 36


@pytest.fixture(scope="module")
def report(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    workdir = tmp_path_factory.mktemp("waiting")
    args = [sys.executable, "-m", "pytest", "--kora-conformance", "-p", "no:cacheprovider"]
    for name in ("kct_human_gate", "kct_slow_text"):
        args += ["--kora-plugin", str(WAITING / name)]
    args += ["--kora-report", "r.json", "--kora-seed", "7", "--kora-timeout", str(BUDGET)]
    env = {k: v for k, v in os.environ.items() if not k.startswith(("KORA_", "PYTEST_"))}
    env["HOME"] = str(workdir)
    done = subprocess.run(
        args, cwd=workdir, env=env, capture_output=True, text=True, timeout=300, check=False
    )
    path = workdir / "r.json"
    assert path.is_file(), done.stdout + done.stderr
    data: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
    data["output"] = done.stdout + done.stderr
    return data


def _target(report: dict[str, Any], name: str) -> dict[str, Any]:
    return next(t for t in report["targets"] if t["name"] == name)


def _check(report: dict[str, Any], name: str, check_id: str) -> dict[str, Any]:
    return next(c for c in _target(report, name)["checks"] if c["id"] == check_id)


def test_a_handler_that_waits_for_a_person_is_not_failed(report: dict[str, Any]) -> None:
    assert _target(report, "kct_human_gate")["verdict"] == "conformant", report["output"]
    # Each check that calls the tool handlers: with generated arguments, with an unknown
    # keyword, and once as the host would (to see what a call registers).
    for check_id in ("KC-PL-007", "KC-PL-011", "KC-PL-013"):
        check = _check(report, "kct_human_gate", check_id)
        assert check["outcome"] == "passed", check
        assert "tool 'kct_ask_a_person'" in check["message"], check


def test_the_check_says_which_tool_was_not_judged_and_the_bound(report: dict[str, Any]) -> None:
    message = _check(report, "kct_human_gate", "KC-PL-011")["message"]

    assert "tool 'kct_ask_a_person'" in message
    assert "still running after 3 s" in message
    assert "not judged" in message
    # The tool that answers was judged: the note names only the one that did not.
    assert "kct_echo" not in message
    assert "not judged" in report["output"]


def test_a_tool_that_returns_plain_text_after_a_short_wait_still_fails(
    report: dict[str, Any],
) -> None:
    check = _check(report, "kct_slow_text", "KC-PL-011")

    assert _target(report, "kct_slow_text")["verdict"] == "not-conformant"
    assert check["outcome"] == "failed"
    assert "tool 'kct_ponder' returned a string that is not JSON" in check["seen"]
    assert "not judged" not in check["seen"] + check["message"]


def test_the_bound_is_a_twelfth_of_the_check_budget_and_at_most_ten_seconds() -> None:
    assert CALL_BOUND == 10.0
    assert call_bound(120.0) == 10.0
    assert call_bound(600.0) == 10.0
    assert call_bound(12.0) == 1.0


def test_a_call_still_running_at_the_bound_is_not_judged_and_its_thread_is_a_daemon() -> None:
    answered = threading.Event()
    # A bound of nothing (the call is not waited for at all), on a clock that stands still.
    calls = BoundedCalls(0.0, clock=lambda: 0.0)
    started: list[threading.Thread] = []

    def ask(args: object, **kwargs: object) -> str:
        started.append(threading.current_thread())
        answered.wait()
        return "{}"

    try:
        assert calls.call("tool 'ask'", ask, ({},)) is None
        assert calls.unjudged[0].startswith("tool 'ask': still running after 0 s")
    finally:
        answered.set()
    assert started == [] or started[0].daemon


def test_once_the_waiting_share_is_spent_no_further_call_is_made() -> None:
    answered = threading.Event()
    # A budget of 0.375 s: each call is waited for 1/32 s, and half the budget (six such
    # waits) is all a check spends on calls that run long.
    calls = BoundedCalls(0.375, clock=lambda: 0.0)
    made: list[str] = []

    def ask(args: object, **kwargs: object) -> str:
        made.append("called")
        answered.wait()
        return "{}"

    try:
        for n in range(10):
            assert calls.call(f"tool 't{n}'", ask, ({},)) is None
        assert len(made) == 6
        assert calls.spent
        assert "tool 't6': not called, and not judged" in calls.unjudged[6]
    finally:
        answered.set()


def test_a_call_that_returns_in_time_is_judged_as_ever() -> None:
    calls = BoundedCalls(120.0)

    call = calls.call("tool 'echo'", lambda args, **kw: json.dumps(args), ({"a": 1},))

    assert call is not None
    assert call.result == '{"a": 1}'
    assert calls.unjudged == []


def test_what_a_handler_raises_past_call_for_real_reaches_the_check() -> None:
    def quit_now(args: object, **kwargs: object) -> str:
        raise SystemExit(3)

    with pytest.raises(SystemExit):
        BoundedCalls(120.0).call("/quit", quit_now, ({},))


def test_once_the_check_has_used_its_share_of_its_budget_no_further_call_is_made() -> None:
    now = [100.0]
    calls = BoundedCalls(120.0, clock=lambda: now[0])
    made: list[str] = []

    def quick(args: object, **kwargs: object) -> str:
        made.append("called")
        return "{}"

    assert calls.call("tool 'a'", quick, ({},)) is not None
    # Many calls, each well within the bound, add up: past 60 % of the budget the check
    # makes no more, so that it ends within its budget and says what it did not judge.
    now[0] += 73.0
    assert calls.spent
    assert calls.call("tool 'b'", quick, ({},)) is None
    assert made == ["called"]
    assert "tool 'b': not called, and not judged" in calls.unjudged[-1]
    assert "60 %" in calls.unjudged[-1]


def test_the_share_for_calls_counts_from_the_check_s_start_not_its_first_call() -> None:
    # Loading the plugin and drawing arguments took 75 s of a 120 s budget before the first
    # call: a call made now, and waited for up to the bound, could run the process past its
    # budget, so none is made.
    calls = BoundedCalls(120.0, clock=lambda: 175.0, started=100.0)

    assert calls.call("tool 'a'", lambda args, **kwargs: "{}", ({},)) is None
    assert "60 %" in calls.unjudged[-1]
    assert BoundedCalls(120.0, clock=lambda: 175.0, started=150.0).spent is False
