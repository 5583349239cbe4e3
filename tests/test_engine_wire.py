"""Contract 1.4: what the reference engine puts on the wire.

The Messages API is intercepted with respx through pytest-httpx2's ``httpcore2`` mocker (the
``httpx2_mock`` fixture); every unmatched request fails the test, so the real API is never called.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
import pytest
import pytest_httpx2  # noqa: F401 - registers respx's "httpcore2" mocker (the SDK uses httpx2)
import respx

from reference_runtime import (
    EngineNotConfiguredError,
    IdentityResolutionError,
    KoraError,
    ReasoningEngine,
    Runtime,
    RuntimeConfig,
)

pytestmark = pytest.mark.usefixtures("clean_kora_env", "isolated_imports")

MESSAGES_URL = "https://api.anthropic.com/v1/messages"
BUNDLED_PLUGINS = Path(__file__).resolve().parents[1] / "plugins"

PROVIDER = """\
from reference_runtime import IdentitySpec

CALLS = []

def provider(**kwargs):
    CALLS.append(kwargs)
    return IdentitySpec({persona!r}, {prompt!r}, {{"agent_name": "Wire"}})

def register(ctx):
    ctx.register_identity_provider(provider)
"""


def message_json(text: str = "ok") -> dict[str, Any]:
    return {
        "id": "msg_kct_0001",
        "type": "message",
        "role": "assistant",
        "model": "claude-kct-model",
        "content": [{"type": "text", "text": text}],
        "stop_reason": "end_turn",
        "stop_sequence": None,
        "usage": {"input_tokens": 3, "output_tokens": 1},
    }


@pytest.fixture
def messages_route(httpx2_mock: respx.Router) -> respx.Route:
    return httpx2_mock.post(MESSAGES_URL).mock(
        return_value=httpx.Response(200, json=message_json("mocked reply"))
    )


@pytest.fixture
def api_key(clean_kora_env: None, monkeypatch: pytest.MonkeyPatch) -> str:
    monkeypatch.setenv("ANTHROPIC_API_KEY", "kct-test-key")
    return "kct-test-key"


def provider_runtime(
    make_plugin: Callable[..., Path], root: Path, persona: str, prompt: str
) -> Runtime:
    make_plugin("kct_wire", PROVIDER.format(persona=persona, prompt=prompt))
    return Runtime(RuntimeConfig(enabled=("kct_wire",), plugin_dirs=(root,), entry_point_groups=()))


def body_of(call: Any) -> dict[str, Any]:
    body: dict[str, Any] = json.loads(call.request.content)
    return body


def sent_key(call: Any) -> str:
    """The credential a request carried (``x-api-key`` or a bearer token, by SDK version)."""
    headers = call.request.headers
    key: str = headers.get("x-api-key") or headers.get("authorization", "").removeprefix("Bearer ")
    return key


def text_blocks(*texts: str) -> list[dict[str, str]]:
    return [{"type": "text", "text": text} for text in texts]


@pytest.mark.usefixtures("api_key")
def test_request_system_carries_persona_then_prompt(
    make_plugin: Callable[..., Path], plugins_root: Path, messages_route: respx.Route
) -> None:
    runtime = provider_runtime(make_plugin, plugins_root, "WIRE PERSONA", "WIRE PROMPT")
    engine = ReasoningEngine(runtime, model="claude-kct-model", max_tokens=77)

    reply = engine.send("hello there")

    assert messages_route.call_count == 1
    body = body_of(messages_route.calls.last)
    assert body["system"] == text_blocks("WIRE PERSONA", "WIRE PROMPT")
    assert body["messages"] == [{"role": "user", "content": "hello there"}]
    assert body["model"] == "claude-kct-model"
    assert body["max_tokens"] == 77
    assert sent_key(messages_route.calls.last) == "kct-test-key"
    assert reply.content[0].text == "mocked reply"  # type: ignore[union-attr]


@pytest.mark.usefixtures("api_key")
def test_every_request_carries_the_identity_resolved_once(
    make_plugin: Callable[..., Path], plugins_root: Path, messages_route: respx.Route
) -> None:
    runtime = provider_runtime(make_plugin, plugins_root, "P", "S")
    engine = ReasoningEngine(runtime)

    engine.send("one")
    engine.send([{"role": "user", "content": "two"}], max_tokens=5)

    bodies = [body_of(call) for call in messages_route.calls]
    assert [b["system"] for b in bodies] == [text_blocks("P", "S")] * 2
    assert bodies[1]["messages"] == [{"role": "user", "content": "two"}]
    assert bodies[1]["max_tokens"] == 5
    assert len(sys.modules["hermes_plugins.kct_wire"].CALLS) == 1


@pytest.mark.usefixtures("api_key")
def test_an_empty_persona_is_left_out(
    make_plugin: Callable[..., Path], plugins_root: Path, messages_route: respx.Route
) -> None:
    engine = ReasoningEngine(provider_runtime(make_plugin, plugins_root, "", "ONLY PROMPT"))

    engine.send("hi")

    assert body_of(messages_route.calls.last)["system"] == text_blocks("ONLY PROMPT")


@pytest.mark.usefixtures("api_key")
def test_with_no_claim_the_fallback_file_is_sent(
    tmp_path: Path, messages_route: respx.Route
) -> None:
    fallback = tmp_path / "fallback.md"
    fallback.write_text("FALLBACK PROMPT\nsecond line\n", encoding="utf-8")
    engine = ReasoningEngine(
        Runtime(RuntimeConfig(entry_point_groups=())), system_prompt_path=fallback
    )

    engine.send("hi")

    assert engine.identity.source == "file"
    assert body_of(messages_route.calls.last)["system"] == text_blocks(
        "FALLBACK PROMPT\nsecond line\n"
    )


@pytest.mark.usefixtures("api_key")
def test_the_bundled_marvin_reaches_the_wire(messages_route: respx.Route) -> None:
    data = BUNDLED_PLUGINS / "marvin" / "src" / "marvin" / "data"
    runtime = Runtime(
        RuntimeConfig(
            enabled=("marvin", "kora"), plugin_dirs=(BUNDLED_PLUGINS,), entry_point_groups=()
        ),
        install_compat=True,
    )

    ReasoningEngine(runtime).send("hi")

    assert body_of(messages_route.calls.last)["system"] == text_blocks(
        (data / "MARVIN.md").read_text("utf-8"),
        (data / "marvin_system_prompt.md").read_text("utf-8"),
    )


def test_construction_needs_no_key_but_sending_does(
    make_plugin: Callable[..., Path], plugins_root: Path
) -> None:
    engine = ReasoningEngine(provider_runtime(make_plugin, plugins_root, "P", "S"))

    with respx.mock(using="httpcore2", assert_all_called=False) as router:
        route = router.post(MESSAGES_URL).mock(
            return_value=httpx.Response(200, json=message_json())
        )
        with pytest.raises(EngineNotConfiguredError, match="ANTHROPIC_API_KEY") as info:
            engine.send("hi")

    assert isinstance(info.value, KoraError)
    assert route.call_count == 0


def test_a_blank_key_variable_counts_as_no_key(
    make_plugin: Callable[..., Path], plugins_root: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("ANTHROPIC_API_KEY", "   ")
    engine = ReasoningEngine(provider_runtime(make_plugin, plugins_root, "P", "S"))

    with pytest.raises(EngineNotConfiguredError):
        engine.send("hi")


def test_an_explicit_api_key_is_used(
    make_plugin: Callable[..., Path], plugins_root: Path, messages_route: respx.Route
) -> None:
    engine = ReasoningEngine(
        provider_runtime(make_plugin, plugins_root, "P", "S"), api_key="kct-explicit"
    )

    engine.send("hi")

    assert sent_key(messages_route.calls.last) == "kct-explicit"


def test_a_missing_fallback_fails_construction(tmp_path: Path, httpx2_mock: respx.Router) -> None:
    missing = tmp_path / "nowhere.md"

    with pytest.raises(IdentityResolutionError) as info:
        ReasoningEngine(Runtime(RuntimeConfig(entry_point_groups=())), system_prompt_path=missing)

    assert str(missing) in str(info.value)
    assert "KORA_SYSTEM_PROMPT_PATH" in str(info.value)
    assert httpx2_mock.calls.call_count == 0
