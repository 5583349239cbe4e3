"""The engine honours Hermes' ``pre_api_request_mutable`` hook: ``{"override": {...}}`` results are
merged into the request, left to right, before it is sent (what the KC-ID-006 mutant abuses).
"""

from __future__ import annotations

import json
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
import pytest
import respx

from reference_runtime import ReasoningEngine, Runtime, RuntimeConfig

pytestmark = pytest.mark.usefixtures("clean_kora_env", "isolated_imports")

MESSAGES_URL = "https://api.anthropic.com/v1/messages"

PROVIDER = """\
from reference_runtime import IdentitySpec

def provider(**kwargs):
    return IdentitySpec("", "THE PROMPT", {"agent_name": "Hooked"})

def register(ctx):
    ctx.register_identity_provider(provider)
"""

HOOK = """\
SEEN = []

def hook(*, request, engine, **kwargs):
    SEEN.append((request, engine))
    request["system"] = "mutated in place"  # a copy: no effect on the wire
    return {result!r}

def register(ctx):
    ctx.register_hook("pre_api_request_mutable", hook)
"""

MESSAGE = {
    "id": "msg_kct_hook",
    "type": "message",
    "role": "assistant",
    "model": "claude-kct-model",
    "content": [{"type": "text", "text": "ok"}],
    "stop_reason": "end_turn",
    "stop_sequence": None,
    "usage": {"input_tokens": 1, "output_tokens": 1},
}


@pytest.fixture
def route(httpx2_mock: respx.Router) -> respx.Route:
    return httpx2_mock.post(MESSAGES_URL).mock(return_value=httpx.Response(200, json=MESSAGE))


def engine_with_hooks(
    make_plugin: Callable[..., Path], root: Path, results: list[Any]
) -> ReasoningEngine:
    make_plugin("kct_identity", PROVIDER)
    names = []
    for i, result in enumerate(results):
        names.append(f"kct_hook_{i}")
        make_plugin(names[-1], HOOK.format(result=result))
    config = RuntimeConfig(
        enabled=("kct_identity", *names), plugin_dirs=(root,), entry_point_groups=()
    )
    return ReasoningEngine(Runtime(config), api_key="kct-key", model="claude-kct-model")


def sent(route: respx.Route) -> dict[str, Any]:
    body: dict[str, Any] = json.loads(route.calls.last.request.content)
    return body


def test_without_hooks_the_request_is_unchanged(
    make_plugin: Callable[..., Path], plugins_root: Path, route: respx.Route
) -> None:
    engine_with_hooks(make_plugin, plugins_root, []).send("hi")

    assert sent(route)["system"] == [{"type": "text", "text": "THE PROMPT"}]


def test_overrides_merge_left_to_right_and_in_place_changes_do_nothing(
    make_plugin: Callable[..., Path], plugins_root: Path, route: respx.Route
) -> None:
    engine = engine_with_hooks(
        make_plugin,
        plugins_root,
        [
            {"override": {"system": "first", "max_tokens": 11}},
            None,
            {"override": {"system": [{"type": "text", "text": "second"}]}},
        ],
    )

    engine.send("hi")

    body = sent(route)
    assert body["system"] == [{"type": "text", "text": "second"}]
    assert body["max_tokens"] == 11
    assert body["messages"] == [{"role": "user", "content": "hi"}]


def test_hooks_see_the_request_and_the_engine(
    make_plugin: Callable[..., Path], plugins_root: Path, route: respx.Route
) -> None:
    engine = engine_with_hooks(make_plugin, plugins_root, [None])

    engine.send("hello", max_tokens=7)

    ((request, seen_engine),) = sys.modules["hermes_plugins.kct_hook_0"].SEEN
    assert seen_engine is engine
    assert request == {
        "model": "claude-kct-model",
        "max_tokens": 7,
        "system": "mutated in place",
        "messages": [{"role": "user", "content": "hello"}],
    }
    assert sent(route)["system"] == [{"type": "text", "text": "THE PROMPT"}]


def test_results_without_an_override_mapping_are_ignored_with_a_warning(
    make_plugin: Callable[..., Path],
    plugins_root: Path,
    route: respx.Route,
    caplog: pytest.LogCaptureFixture,
) -> None:
    engine = engine_with_hooks(make_plugin, plugins_root, ["nonsense", {"override": 3}])

    engine.send("hi")

    assert sent(route)["system"] == [{"type": "text", "text": "THE PROMPT"}]
    warnings = [r.getMessage() for r in caplog.records if r.levelname == "WARNING"]
    assert any(
        "plugin 'kct_hook_0'" in w and "'nonsense'" in w and "pre_api_request_mutable" in w
        for w in warnings
    )
    assert any("plugin 'kct_hook_1'" in w and "{'override': 3}" in w for w in warnings)
