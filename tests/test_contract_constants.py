"""The kit's copy of the contract's facts agrees with the reference runtime's, on purpose.

The kit keeps its own copy (:mod:`kora_conformance._contract`) so that it never judges a runtime
by that runtime's own constants; these tests make a change to the contract land in both.
"""

from __future__ import annotations

import importlib

import pytest

from kora_conformance import _contract
from reference_runtime import (
    DEFAULT_ENTRY_POINT_GROUPS,
    DEFAULT_MODEL,
    IDENTITY_HOOK,
    BackgroundDaemonEntry,
    DaemonSpecError,
)


def test_the_entry_point_groups() -> None:
    assert _contract.ENTRY_POINT_GROUPS == DEFAULT_ENTRY_POINT_GROUPS
    assert _contract.PRIMARY_ENTRY_POINT_GROUP == "hermes_agent.plugins"


def test_the_hook_and_the_model() -> None:
    assert _contract.IDENTITY_HOOK == IDENTITY_HOOK
    assert _contract.MODEL == DEFAULT_MODEL


def test_the_environment_variables() -> None:
    config = importlib.import_module("reference_runtime._config")
    assert _contract.ENV_SYSTEM_PROMPT_PATH == config.ENV_SYSTEM_PROMPT_PATH


@pytest.mark.parametrize("name", ["poller", "a.b-c_d", "X9", "bad name", "", "é", "a/b"])
def test_the_daemon_name_rule(name: str) -> None:
    def startup(coordinator: object = None) -> None:
        return None

    def shutdown() -> None:
        return None

    kit_says_valid = _contract.DAEMON_NAME.fullmatch(name) is not None
    try:
        BackgroundDaemonEntry(name, startup, shutdown)
    except DaemonSpecError:
        runtime_says_valid = False
    else:
        runtime_says_valid = True
    assert kit_says_valid == runtime_says_valid
