"""Plugins in upstream shapes loading through the Hermes surface, and the runtime's query API.

The plugins under ``tests/plugins_upstream/`` load through the real discovery and loading path;
small inline plugins (``make_plugin``) cover collisions and failures.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from reference_runtime import (
    CommandRecord,
    LLMUnavailableError,
    Manifest,
    NotRegisteredError,
    PluginContext,
    PluginLLM,
    Runtime,
    RuntimeConfig,
    ToolRecord,
)

pytestmark = pytest.mark.usefixtures("clean_kora_env", "isolated_imports")

UPSTREAM = Path(__file__).parent / "plugins_upstream"
MakePlugin = Callable[..., Path]


def upstream(*enabled: str) -> Runtime:
    return Runtime(RuntimeConfig(enabled=enabled, plugin_dirs=(UPSTREAM,), entry_point_groups=()))


def inline(root: Path, *enabled: str) -> Runtime:
    return Runtime(RuntimeConfig(enabled=enabled, plugin_dirs=(root,), entry_point_groups=()))


TOOL = """\
import json

def register(ctx):
    ctx.register_tool({name!r}, {toolset!r}, {{"name": {name!r}}},
                      lambda args, **kw: json.dumps({{"by": ctx.name}}), override={override})
"""


def tool_plugin(name: str = "shared", toolset: str = "kct", *, override: bool = False) -> str:
    return TOOL.format(name=name, toolset=toolset, override=override)


# --- the upstream-shaped plugins -----------------------------------------------------------------


def test_a_tool_plugin_loads_and_its_tool_is_callable() -> None:
    runtime = upstream("kct_weather_tool")

    assert runtime.load().errors == {}
    (record,) = runtime.tools()
    assert isinstance(record, ToolRecord)
    assert (record.name, record.toolset, record.plugin) == (
        "weather_lookup",
        "weather",
        "kct_weather_tool",
    )
    module = sys.modules["hermes_plugins.kct_weather_tool"]
    assert record.schema is module.SCHEMA
    assert record.handler is module.weather_lookup
    assert (record.description, record.emoji, record.override) == (
        "Look up the forecast",
        "sun",
        False,
    )
    assert record.available()
    assert runtime.tool("weather_lookup") == record
    reply = runtime.call_tool("weather_lookup", {"city": "Oslo"}, task_id="t-1")
    assert json.loads(reply) == {"city": "Oslo", "forecast": "clear", "task_id": "t-1"}


def test_call_tool_names_the_registered_tools_when_the_name_is_unknown() -> None:
    runtime = upstream("kct_weather_tool")

    with pytest.raises(NotRegisteredError, match=r"'weather'.*registered: weather_lookup") as e:
        runtime.call_tool("weather", {})

    assert (e.value.kind, e.value.name) == ("tool", "weather")
    assert isinstance(e.value, LookupError)


def test_a_command_plugin_gets_raw_arguments_and_async_handlers_are_awaited() -> None:
    runtime = upstream("kct_notes_command")

    assert [c.name for c in runtime.commands()] == ["note", "recall"]
    assert all(isinstance(c, CommandRecord) for c in runtime.commands())
    assert runtime.commands()[0].args_hint == "<text>"
    assert runtime.run_command("note", "buy  milk --later") == "noted: buy  milk --later"
    assert runtime.run_command("/recall") == "buy  milk --later"
    with pytest.raises(NotRegisteredError, match=r"/forget.*registered: note, recall"):
        runtime.run_command("forget")


def test_a_memory_provider_is_recorded_not_activated() -> None:
    runtime = upstream("kct_recall_memory")

    (record,) = runtime.registrations("kct_recall_memory")
    assert (record.kind, record.key) == ("memory_provider", "recall")
    provider = record["provider"]
    assert provider.is_available()
    assert runtime.registrations(kind="hook") == ()


def test_a_platform_plugin_registers_its_adapter(monkeypatch: pytest.MonkeyPatch) -> None:
    runtime = upstream("kct_pager_platform")

    (record,) = runtime.registrations(kind="platform")
    assert (record.plugin, record.key, record["label"]) == ("kct_pager_platform", "pager", "Pager")
    adapter = record["adapter_factory"]({"token": "t"})
    assert adapter.config == {"token": "t"}
    assert record["validate_config"]({"token": "t"})
    assert not record["check_fn"]()
    monkeypatch.setenv("PAGER_TOKEN", "secret")
    assert record["check_fn"]()


def test_a_plugin_registering_several_kinds() -> None:
    runtime = upstream("kct_toolbox")

    report = runtime.load()

    assert report.errors == {}
    kinds = [r.kind for r in runtime.registrations("kct_toolbox")]
    assert kinds == [
        "tool",
        "hook",
        "middleware",
        "skill",
        "system_prompt_section",
        "cli_command",
        "approval_transport",
        "web_search",
        "context_engine",
        "command",
    ]
    (skill,) = runtime.registrations(kind="skill")
    assert skill.key == "kct_toolbox:triage"
    # The tool sees the manifest's config_schema default; the command dispatches the tool.
    assert json.loads(runtime.run_command("echo", "hi")) == {"echo": "tb:hi"}
    assert runtime.plugin_settings("kct_toolbox") == {"model_seen": False}
    assert runtime.invoke_hook("post_tool_call", tool_name="toolbox_echo") == []
    assert sys.modules["hermes_plugins.kct_toolbox"].SEEN == ["toolbox_echo"]


def test_settings_from_the_host_reach_get_config() -> None:
    runtime = upstream("kct_toolbox")
    runtime.configure_plugin("kct_toolbox", {"prefix": "host"})

    assert json.loads(runtime.call_tool("toolbox_echo", {"text": "x"})) == {"echo": "host:x"}
    context = runtime.context("kct_toolbox")
    assert context is not None
    assert context.config == {"prefix": "host", "model_seen": False}


# --- collisions and the override rule ----------------------------------------------------------


def test_a_second_plugins_tool_of_the_same_name_is_refused(
    make_plugin: MakePlugin, plugins_root: Path
) -> None:
    make_plugin("kct_first", tool_plugin())
    make_plugin("kct_second", tool_plugin(toolset="other"))
    runtime = inline(plugins_root, "kct_first", "kct_second")

    report = runtime.load()

    assert [p.key for p in report.loaded] == ["kct_first", "kct_second"]
    (record,) = runtime.tools()
    assert record.plugin == "kct_first"
    assert json.loads(runtime.call_tool("shared", {})) == {"by": "kct_first"}
    (warning,) = [w for w in report.warnings if "tool.shadowing" in w]
    assert "plugin 'kct_second'" in warning
    assert "already registered by plugin 'kct_first'" in warning


def test_the_same_toolset_from_another_plugin_is_still_a_collision(
    make_plugin: MakePlugin, plugins_root: Path
) -> None:
    make_plugin("kct_first", tool_plugin())
    make_plugin("kct_second", tool_plugin())
    runtime = inline(plugins_root, "kct_first", "kct_second")

    assert runtime.tool("shared") is not None
    assert runtime.tool("shared").plugin == "kct_first"  # type: ignore[union-attr]


def test_override_without_the_capability_fails_the_plugin_whole(
    make_plugin: MakePlugin, plugins_root: Path
) -> None:
    make_plugin("kct_first", tool_plugin())
    body = tool_plugin(override=True).replace(
        "def register(ctx):\n", "def register(ctx):\n    ctx.register_command('kct_cmd', print)\n"
    )
    make_plugin("kct_second", body)
    runtime = inline(plugins_root, "kct_first", "kct_second")

    report = runtime.load()

    assert "ToolOverrideError" in report.errors["kct_second"]
    assert "tool.override-capability" in report.errors["kct_second"]
    assert "register_tool('shared', ...)" in report.errors["kct_second"]
    assert runtime.registrations("kct_second") == ()
    assert runtime.commands() == ()
    assert runtime.tool("shared").plugin == "kct_first"  # type: ignore[union-attr]


def test_override_with_the_capability_displaces_the_other_plugins_tool(
    make_plugin: MakePlugin, plugins_root: Path
) -> None:
    make_plugin("kct_first", tool_plugin())
    make_plugin(
        "kct_second",
        tool_plugin(override=True),
        manifest={"name": "kct_second", "capabilities": ["tools.override"]},
    )
    runtime = inline(plugins_root, "kct_first", "kct_second")

    assert runtime.load().errors == {}
    (record,) = runtime.tools()
    assert (record.plugin, record.override) == ("kct_second", True)
    assert json.loads(runtime.call_tool("shared", {})) == {"by": "kct_second"}


# --- rollback ------------------------------------------------------------------------------------


def test_a_plugin_that_registers_a_tool_then_fails_leaves_nothing(
    make_plugin: MakePlugin, plugins_root: Path
) -> None:
    body = tool_plugin("doomed").replace(
        "override=False)\n",
        "override=False)\n    ctx.set_config('touched', True)\n    raise RuntimeError('late')\n",
    )
    make_plugin("kct_failing", body)
    make_plugin("kct_fine", tool_plugin("kept"))
    runtime = inline(plugins_root, "kct_failing", "kct_fine")

    report = runtime.load()

    assert "RuntimeError: late" in report.errors["kct_failing"]
    assert [t.name for t in runtime.tools()] == ["kept"]
    assert runtime.registrations("kct_failing") == ()
    assert runtime.plugin_settings("kct_failing") == {}
    with pytest.raises(NotRegisteredError):
        runtime.call_tool("doomed", {})


def test_a_rolled_back_override_puts_the_displaced_tool_back() -> None:
    runtime = Runtime(RuntimeConfig())
    first = PluginContext(Manifest("kct_first"), runtime)
    first.register_tool("shared", "kct", {}, lambda args, **kw: "first")
    first.commit()
    second = PluginContext(
        Manifest("kct_second", extra={"capabilities": ["tools.override"]}), runtime
    )
    second.register_tool("shared", "kct", {}, lambda args, **kw: "second", override=True)
    second.set_config("mode", "loud")
    second.commit()
    assert runtime.call_tool("shared", {}) == "second"
    assert runtime.plugin_settings("kct_second") == {"mode": "loud"}

    second.rollback()

    assert runtime.call_tool("shared", {}) == "first"
    assert [r.plugin for r in runtime.registrations()] == ["kct_first"]
    assert runtime.plugin_settings("kct_second") == {}


def test_registrations_after_commit_apply_at_once() -> None:
    runtime = Runtime(RuntimeConfig())
    ctx = PluginContext(Manifest("kct_late"), runtime)
    ctx.commit()

    ctx.register_command("later", lambda raw: raw.upper())
    ctx.set_config("late", 1)

    assert runtime.run_command("later", "x") == "X"
    assert runtime.plugin_settings("kct_late") == {"late": 1}


# --- members -------------------------------------------------------------------------------------


def test_dispatch_tool_always_answers_with_a_json_string() -> None:
    runtime = Runtime(RuntimeConfig())
    ctx = PluginContext(Manifest("kct_caller"), runtime)
    ctx.register_tool("ok", "kct", {}, lambda args, **kw: {"sum": args["a"] + args["b"]})
    ctx.register_tool("broken", "kct", {}, lambda args, **kw: 1 / 0)
    ctx.commit()

    assert json.loads(ctx.dispatch_tool("ok", {"a": 1, "b": 2})) == {"sum": 3}
    assert "ZeroDivisionError" in json.loads(ctx.dispatch_tool("broken", {}))["error"]
    assert "no tool is registered as 'nope'" in json.loads(ctx.dispatch_tool("nope", {}))["error"]
    with pytest.raises(ZeroDivisionError):
        runtime.call_tool("broken", {})


def test_ctx_llm_is_honest_about_having_no_model() -> None:
    runtime = Runtime(RuntimeConfig())
    ctx = PluginContext(Manifest("kct_asker"), runtime)

    assert isinstance(ctx.llm, PluginLLM)
    assert ctx.llm.available is False
    assert "no model" in repr(ctx.llm)
    with pytest.raises(LLMUnavailableError, match=r"'kct_asker'.*runtime.llm_backend") as e:
        ctx.llm.complete("hello")
    assert e.value.plugin == "kct_asker"


def test_ctx_llm_uses_the_backend_a_host_sets() -> None:
    runtime = Runtime(RuntimeConfig())
    calls: list[tuple[str, Any, dict[str, Any]]] = []

    async def backend(plugin: str, messages: Any, **options: Any) -> str:
        calls.append((plugin, messages, options))
        return "pong"

    runtime.llm_backend = backend
    ctx = PluginContext(Manifest("kct_asker"), runtime)

    assert ctx.llm.available
    assert ctx.llm.complete([{"role": "user", "content": "ping"}], max_tokens=5) == "pong"
    assert calls == [("kct_asker", [{"role": "user", "content": "ping"}], {"max_tokens": 5})]
    assert Runtime(RuntimeConfig()).llm_backend is None  # per runtime


def test_the_manifest_is_readable_and_writable_with_upstream_fields() -> None:
    manifest = Manifest(
        "kct_meta", version="1.0", hooks=("on_session_start",), extra={"kind": "backend"}
    )
    ctx = PluginContext(manifest, Runtime(RuntimeConfig()))

    assert (ctx.manifest.name, ctx.manifest.version, ctx.manifest.key) == (
        "kct_meta",
        "1.0",
        "kct_meta",
    )
    assert ctx.manifest.kind == "backend"
    assert ctx.manifest.provides_hooks == ["on_session_start"]
    assert ctx.manifest.provides_tools == []
    ctx.manifest.provides_tools.append("lookup")
    ctx.manifest.description = "rewritten"
    ctx.manifest.name = "renamed"

    assert ctx.manifest.provides_tools == ["lookup"]
    assert ctx.manifest.description == "rewritten"
    assert ctx.name == "kct_meta"  # the runtime's record of the plugin is unchanged
    assert manifest.description == ""
    assert ctx.manifest.source is manifest
    with pytest.raises(AttributeError, match="no field 'colour'"):
        _ = ctx.manifest.colour
    ctx.manifest = Manifest("kct_other")
    assert ctx.name == "kct_other"


def test_identity_members() -> None:
    runtime = upstream("kct_weather_tool")
    runtime.load()
    ctx = runtime.context("kct_weather_tool")
    assert ctx is not None

    assert (ctx.plugin_id, ctx.profile_name) == ("kct_weather_tool", "default")
    assert ctx.has_plugin("kct_weather_tool")
    assert not ctx.has_plugin("kct_toolbox")
    assert not ctx.has_capability("tools.override")


def test_registering_a_plugin_again_replaces_its_keyed_registrations(tmp_path: Path) -> None:
    """A plugin registered again (a reload) takes over its own names instead of clashing."""
    skill = tmp_path / "SKILL.md"
    skill.write_text("---\nname: triage\n---\n", encoding="utf-8")

    def register(ctx: Any) -> None:
        ctx.register_tool("lookup", "kct", {}, lambda args, **kw: "{}")
        ctx.register_command("kct_note", print)
        ctx.register_skill("triage", skill)
        ctx.register_system_prompt_section("rules", "x" * 4000)  # the whole budget, twice
        ctx.register_system_prompt_section("more", "y" * 4000)
        ctx.register_approval_transport("kct_pager", print)
        ctx.register_memory_provider(type("Recall", (), {"name": "recall"})())
        ctx.register_context_engine(type("Trim", (), {"name": "trim"})())
        ctx.register_auxiliary_task("kct_summaries")
        ctx.register_hook("on_session_start", lambda **kw: "hello")

    runtime = Runtime(RuntimeConfig())
    manifest = Manifest("kct_reloaded")
    first = runtime.register_plugin(manifest, register)

    again = runtime.register_plugin(manifest, register)

    assert again.warnings == []
    kinds = [r.kind for r in runtime.registrations("kct_reloaded")]
    assert sorted(kinds) == sorted([r.kind for r in first.registrations] + ["hook"])
    assert runtime.invoke_hook("on_session_start") == ["hello", "hello"]  # hooks accumulate
    again.rollback()
    assert len(runtime.registrations("kct_reloaded")) == len(first.registrations)


def test_the_load_report_keeps_what_register_had_registered_when_it_returned(
    make_plugin: MakePlugin, plugins_root: Path
) -> None:
    # A plugin that keeps its context registers later (from a thread, or a hook): that takes
    # effect at once, but it is not what register(ctx) left, which the load report records.
    make_plugin(
        "kct_keeps_ctx",
        "KEPT = []\n\ndef register(ctx):\n    KEPT.append(ctx)\n"
        "    ctx.register_hook('on_session_start', lambda **kw: None)\n",
    )
    runtime = inline(plugins_root, "kct_keeps_ctx")
    (loaded,) = runtime.load().loaded
    context = runtime.context("kct_keeps_ctx")
    assert context is not None
    context.register_tool("kct_later", "kct", {"name": "kct_later"}, lambda args, **kw: "{}")

    assert [(r.kind, r.key) for r in loaded.registrations] == [("hook", "on_session_start")]
    assert [r.key for r in runtime.registrations("kct_keeps_ctx", kind="tool")] == ["kct_later"]
