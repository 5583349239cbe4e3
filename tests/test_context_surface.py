"""The upstream Hermes registration surface on ``PluginContext``: the table, each method's rules.

These tests call a bare context directly (nothing loaded); loading real plugins through the
surface is in ``test_context_surface_runtime.py``.
"""

from __future__ import annotations

import dataclasses
import inspect
import logging
import re
from pathlib import Path
from typing import Any

import pytest

from reference_runtime import (
    BUILTIN_COMMANDS,
    HERMES_SURFACE,
    MIDDLEWARE_KINDS,
    PROMPT_SECTION_LIMITS,
    Manifest,
    PluginContext,
    Registration,
    RegistrationError,
    RegistrationRuleError,
    Runtime,
    RuntimeConfig,
    SkillPathError,
    ToolOverrideError,
    surface_method,
)

#: What published plugins call (the 0.19.0 surface they are written against).
PUBLISHED_METHODS = {
    "register_tool",
    "register_hook",
    "register_command",
    "register_cli_command",
    "register_skill",
    "register_platform",
    "register_memory_provider",
    "register_middleware",
    "register_web_search_provider",
    "register_browser_provider",
    "register_image_gen_provider",
    "register_video_gen_provider",
    "register_transcription_provider",
    "register_tts_provider",
    "register_context_engine",
    "register_system_prompt_section",
    "register_approval_transport",
}
#: What upstream's main branch adds.
MAIN_METHODS = {
    "register_context_reference",
    "register_dashboard_auth_provider",
    "register_terminal_environment_provider",
    "register_secret_source",
    "register_auxiliary_task",
    "register_redaction_patterns",
    "register_platform_handler",
    "register_telegram_handler",
    "register_slack_action_handler",
}


def context(
    name: str = "kct_plugin", runtime: Runtime | None = None, **extra: Any
) -> PluginContext:
    return PluginContext(Manifest(name, extra=extra), runtime or Runtime(RuntimeConfig()))


def handler(args: dict[str, Any], **kwargs: Any) -> str:
    return "{}"


def tool(ctx: PluginContext, name: str = "lookup", **options: Any) -> Any:
    options.setdefault("toolset", "kct")
    return ctx.register_tool(name, schema={"name": name}, handler=handler, **options)


class Provider:
    def __init__(self, name: str = "kct-provider", prefix: str = "kct") -> None:
        self.name = name
        self.prefix = prefix


# --- the table --------------------------------------------------------------------------------


def test_the_table_holds_the_published_and_the_main_surface() -> None:
    names = [m.name for m in HERMES_SURFACE]

    assert len(names) == len(set(names))
    assert set(names) == PUBLISHED_METHODS | MAIN_METHODS
    assert {m.name for m in HERMES_SURFACE if m.since == "0.19.0"} == PUBLISHED_METHODS


@pytest.mark.parametrize("method", HERMES_SURFACE, ids=lambda m: m.name)
def test_each_method_has_the_tables_signature_and_rules(method: Any) -> None:
    function = getattr(PluginContext, method.name)
    signature = inspect.signature(function)

    assert [p.name for p in signature.parameters.values()][1:] == [
        p.name for p in method.params
    ] + (["extra"] if method.extra_keywords else [])
    for param in method.params:
        declared = signature.parameters[param.name]
        assert declared.default == param.default, (method.name, param.name)
        assert (declared.kind is inspect.Parameter.KEYWORD_ONLY) == param.keyword_only
    assert method.rules, method.name
    assert all(re.fullmatch(rf"{method.kind}\.[a-z_.-]+", r.id) for r in method.rules)
    if not method.hand_written:
        assert all(r.id in (function.__doc__ or "") for r in method.rules)


def test_surface_method_names_the_known_ones_when_asked_for_another() -> None:
    assert surface_method("register_tool").kind == "tool"
    with pytest.raises(KeyError, match="register_tool"):
        surface_method("register_tools")


def test_a_call_that_does_not_fit_the_signature_names_plugin_and_signature() -> None:
    with pytest.raises(RegistrationError, match=r"'kct_plugin'.*register_tool\(name: 'str'"):
        context().register_tool("lookup", toolset="kct")  # schema and handler missing


# --- register_tool ------------------------------------------------------------------------------


def test_register_tool_returns_a_frozen_record_of_every_argument() -> None:
    ctx = context()

    record = tool(ctx, check_fn=bool, requires_env=["KCT_KEY"], emoji="x")

    assert isinstance(record, Registration)
    assert (record.plugin, record.method, record.kind, record.key) == (
        "kct_plugin",
        "register_tool",
        "tool",
        "lookup",
    )
    assert record["handler"] is handler
    assert record["requires_env"] == ["KCT_KEY"]
    assert record["override"] is False
    with pytest.raises(dataclasses.FrozenInstanceError):
        record.key = "other"  # type: ignore[misc]
    with pytest.raises(TypeError):
        record.arguments["key"] = "other"  # type: ignore[index]
    assert ctx.registrations == (record,)


@pytest.mark.parametrize(
    ("options", "rule"),
    [
        ({"name": "two words"}, "tool.name"),
        ({"name": "x" * 65}, "tool.name"),
        ({"toolset": ""}, "tool.toolset"),
        ({"schema": ["not", "a", "mapping"]}, "tool.schema"),
        ({"handler": "lookup"}, "tool.handler"),
        ({"check_fn": True}, "tool.check_fn"),
        ({"requires_env": "KCT_KEY"}, "tool.requires_env"),
    ],
)
def test_register_tool_rules(options: dict[str, Any], rule: str) -> None:
    arguments: dict[str, Any] = {"name": "lookup", "toolset": "kct", "schema": {}}
    arguments["handler"] = handler
    arguments.update(options)

    with pytest.raises(RegistrationRuleError) as caught:
        context().register_tool(**arguments)

    assert caught.value.rule == rule
    assert caught.value.plugin == "kct_plugin"
    message = str(caught.value)
    assert message.startswith("plugin 'kct_plugin': register_tool(")
    assert f"breaks rule {rule} (" in message
    assert isinstance(caught.value, ValueError)


def test_a_schema_naming_another_tool_warns_and_is_kept(caplog: pytest.LogCaptureFixture) -> None:
    ctx = context()

    with caplog.at_level(logging.WARNING, "reference_runtime"):
        record = ctx.register_tool("lookup", "kct", {"name": "search"}, handler)

    assert record is not None
    assert "tool.schema-name" in caplog.text
    assert "(kept)" in ctx.warnings[0]


def test_override_needs_the_tools_override_capability() -> None:
    with pytest.raises(ToolOverrideError, match=r"tool\.override-capability.*capabilities"):
        tool(context(), override=True)

    assert tool(context(capabilities=["tools.override"]), override=True) is not None


def test_the_same_plugin_registering_its_tool_again_replaces_it() -> None:
    ctx = context()
    tool(ctx, description="first")

    tool(ctx, description="second")

    assert [r["description"] for r in ctx.registrations] == ["second"]


def test_the_same_plugin_moving_a_tool_to_another_toolset_is_refused() -> None:
    ctx = context()
    tool(ctx)

    assert tool(ctx, toolset="other") is None
    assert "tool.shadowing" in ctx.warnings[0]
    assert "toolset 'kct'" in ctx.warnings[0]


# --- register_command and register_cli_command -------------------------------------------------


@pytest.mark.parametrize("name", [*sorted(BUILTIN_COMMANDS)[:3], "help"])
def test_builtin_command_names_are_refused_with_a_warning(name: str) -> None:
    ctx = context()

    assert ctx.register_command(name, print) is None

    assert "breaks rule command.builtin" in ctx.warnings[0]
    assert ctx.registrations == ()


def test_a_command_name_is_a_name_not_a_slash_command() -> None:
    with pytest.raises(RegistrationRuleError, match=r"command\.name"):
        context().register_command("/note", print)


def test_register_cli_command_checks_setup_fn_and_builtin_names() -> None:
    ctx = context()

    record = ctx.register_cli_command("kct", "help text", setup_fn=print)

    assert record is not None
    assert record["handler_fn"] is None
    assert ctx.register_cli_command("gateway", "mine", setup_fn=print) is None
    with pytest.raises(RegistrationRuleError, match=r"cli_command\.setup_fn"):
        ctx.register_cli_command("kct2", "help", setup_fn=None)


# --- register_skill -----------------------------------------------------------------------------


def test_skills_are_namespaced_by_plugin(tmp_path: Path) -> None:
    skill = tmp_path / "SKILL.md"
    skill.write_text("---\nname: triage\n---\n", encoding="utf-8")
    ctx = context()

    record = ctx.register_skill("triage", skill)
    by_directory = ctx.register_skill("sorting", tmp_path)

    assert record.key == "kct_plugin:triage"
    assert by_directory.key == "kct_plugin:sorting"
    with pytest.raises(RegistrationRuleError, match=r"skill\.unique"):
        ctx.register_skill("triage", skill)


def test_a_missing_skill_path_is_a_file_not_found_error(tmp_path: Path) -> None:
    with pytest.raises(SkillPathError, match="does not exist") as caught:
        context().register_skill("triage", tmp_path / "nowhere" / "SKILL.md")

    assert isinstance(caught.value, FileNotFoundError)
    with pytest.raises(SkillPathError, match=r"has no SKILL\.md"):
        context().register_skill("triage", tmp_path)
    with pytest.raises(RegistrationRuleError, match=r"skill\.name"):
        context().register_skill("a:b", tmp_path)


# --- register_middleware and register_hook ------------------------------------------------------


def test_middleware_kinds_are_checked_and_unknown_ones_kept() -> None:
    ctx = context()

    known = [ctx.register_middleware(kind, print) for kind in MIDDLEWARE_KINDS]
    unknown = ctx.register_middleware("tool_respons", print)

    assert all(known)
    assert unknown is not None
    assert len(ctx.warnings) == 1
    assert "middleware.kind" in ctx.warnings[0]
    assert "'tool_respons'" in ctx.warnings[0]


def test_hooks_are_recorded_like_every_registration() -> None:
    ctx = context()
    callback = lambda **kwargs: None  # noqa: E731

    ctx.register_hook(hook_name="post_tool_call", callback=callback)

    (record,) = ctx.registrations
    assert (record.kind, record.key, record["callback"]) == ("hook", "post_tool_call", callback)
    assert ctx.hooks == (("post_tool_call", callback),)


# --- register_system_prompt_section -----------------------------------------------------------


def test_prompt_section_limits() -> None:
    per_section = PROMPT_SECTION_LIMITS["per_section"]
    ctx = context()

    assert ctx.register_system_prompt_section("rules", "x" * per_section) is not None
    assert ctx.register_system_prompt_section("dynamic", lambda session: "y") is not None
    with pytest.raises(RegistrationRuleError, match=r"system_prompt_section\.length"):
        ctx.register_system_prompt_section("long", "x" * 11, max_chars=10)
    with pytest.raises(RegistrationRuleError, match=r"system_prompt_section\.max_chars"):
        ctx.register_system_prompt_section("wide", "x", max_chars=per_section + 1)
    with pytest.raises(RegistrationRuleError, match=r"system_prompt_section\.position"):
        ctx.register_system_prompt_section("early", "x", position="before_memory")
    with pytest.raises(RegistrationRuleError, match=r"system_prompt_section\.unique"):
        ctx.register_system_prompt_section("rules", "again")
    with pytest.raises(RegistrationRuleError, match=r"system_prompt_section\.content"):
        ctx.register_system_prompt_section("number", 42)
    with pytest.raises(TypeError):
        ctx.register_system_prompt_section("positional", "x", "after_memory")  # keyword-only


def test_prompt_sections_share_a_budget_across_plugins() -> None:
    runtime = Runtime(RuntimeConfig())
    per_section = PROMPT_SECTION_LIMITS["per_section"]
    first = context("kct_first", runtime)
    first.register_system_prompt_section("a", "x" * per_section)
    first.register_system_prompt_section("b", "x" * per_section)
    first.commit()
    second = context("kct_second", runtime)

    with pytest.raises(RegistrationRuleError, match=r"budget.*8001 characters"):
        second.register_system_prompt_section("c", "x")
    with pytest.raises(RegistrationRuleError, match="already registered by plugin 'kct_first'"):
        second.register_system_prompt_section("a", "")


def test_at_most_32_prompt_sections() -> None:
    ctx = context()
    for index in range(PROMPT_SECTION_LIMITS["sections"]):
        ctx.register_system_prompt_section(f"s{index}", lambda session: "")

    with pytest.raises(RegistrationRuleError, match="32 sections are already registered"):
        ctx.register_system_prompt_section("one_more", "x")


# --- providers, engines, platforms, transports -------------------------------------------------

PROVIDER_METHODS = [m.name for m in HERMES_SURFACE if m.params and m.params[0].name == "provider"]


@pytest.mark.parametrize("name", PROVIDER_METHODS)
def test_provider_methods_take_an_instance_keyed_by_its_name(name: str) -> None:
    ctx = context()
    provider = Provider()

    record = getattr(ctx, name)(provider)

    assert record is not None
    assert record["provider"] is provider
    assert record.key == ("kct" if name == "register_context_reference" else "kct-provider")


@pytest.mark.parametrize("name", [n for n in PROVIDER_METHODS if "reference" not in n])
def test_a_provider_class_instead_of_an_instance_is_refused_or_rejected(name: str) -> None:
    ctx = context()
    severity = surface_method(name).rules[0].severity

    if severity == "refuse":
        assert getattr(ctx, name)(Provider) is None
        assert "is the class" in ctx.warnings[0]
    else:
        with pytest.raises(RegistrationRuleError, match="is the class"):
            getattr(ctx, name)(Provider)


@pytest.mark.parametrize(
    ("name", "builtin"),
    [
        ("register_tts_provider", "edge"),
        ("register_transcription_provider", "groq"),
        ("register_terminal_environment_provider", "docker"),
    ],
)
def test_builtin_provider_names_are_rejected(name: str, builtin: str) -> None:
    with pytest.raises(RegistrationRuleError, match="builtin"):
        getattr(context(), name)(Provider(builtin))


def test_a_later_provider_of_the_same_name_displaces_the_earlier() -> None:
    runtime = Runtime(RuntimeConfig())
    first = context("kct_first", runtime)
    first.register_web_search_provider(Provider("search"))
    first.commit()
    second = context("kct_second", runtime)
    replacement = Provider("search")
    second.register_web_search_provider(replacement)
    second.commit()

    (held,) = runtime.registrations(kind="web_search")
    assert held["provider"] is replacement

    second.rollback()
    (restored,) = runtime.registrations(kind="web_search")
    assert restored.plugin == "kct_first"


def test_built_in_context_reference_prefixes_are_rejected() -> None:
    pattern = r"register_context_reference\(<Provider>\) breaks rule context_reference\.prefix"
    with pytest.raises(RegistrationRuleError, match=rf"{pattern}.*@file"):
        context().register_context_reference(Provider(prefix="@file:"))


def test_only_one_context_engine() -> None:
    ctx = context()
    ctx.register_context_engine(Provider("first"))

    assert ctx.register_context_engine(Provider("second")) is None
    assert "context_engine.single" in ctx.warnings[0]


def test_memory_providers_are_recorded_first_one_wins() -> None:
    runtime = Runtime(RuntimeConfig())
    first = context("kct_first", runtime)
    first.register_memory_provider(Provider("recall"))
    first.commit()
    second = context("kct_second", runtime)

    assert second.register_memory_provider(Provider("recall")) is None
    assert "already registered by plugin 'kct_first'" in second.warnings[0]


def test_register_platform_checks_callables_and_keeps_extra_keywords() -> None:
    ctx = context()

    record = ctx.register_platform("pager", "Pager", dict, bool, emoji="p")

    assert record["extra"] == {"emoji": "p"}
    assert record["required_env"] == ()
    assert "platform.entry" in ctx.warnings[0]
    with pytest.raises(RegistrationRuleError, match=r"platform\.adapter_factory"):
        ctx.register_platform("pager2", "Pager", None, bool)


def test_platform_and_slack_handlers() -> None:
    ctx = context()

    assert ctx.register_platform_handler("pager", print).key == "pager"
    assert ctx.register_telegram_handler(print).key == "telegram"
    assert ctx.register_slack_action_handler("approve_button", print).key == "approve_button"
    with pytest.raises(RegistrationRuleError, match=r"slack_action_handler\.action_id"):
        ctx.register_slack_action_handler("", print)


def test_slack_action_ids_take_what_slack_bolt_matches() -> None:
    # Upstream passes action_id to slack_bolt's App.action(), which takes a string, a compiled
    # pattern or a constraints mapping; only None and a blank string are refused.
    ctx = context()

    pattern = re.compile(r"^approve_\d+$")
    assert ctx.register_slack_action_handler(pattern, print)["action_id"] is pattern
    constraints = {"action_id": "deny", "block_id": "gate"}
    assert ctx.register_slack_action_handler(constraints, print)["action_id"] == constraints
    for bad in (None, "   "):
        with pytest.raises(RegistrationRuleError, match=r"slack_action_handler\.action_id"):
            ctx.register_slack_action_handler(bad, print)
    with pytest.raises(RegistrationRuleError, match=r"slack_action_handler\.callback"):
        ctx.register_slack_action_handler(pattern, "not callable")


def test_approval_transports_reserve_builtin_and_refuse_duplicates() -> None:
    ctx = context()
    ctx.register_approval_transport("pager", print)

    with pytest.raises(RegistrationRuleError, match=r"approval_transport\.reserved"):
        ctx.register_approval_transport("builtin", print)
    with pytest.raises(RegistrationRuleError, match=r"approval_transport\.unique"):
        ctx.register_approval_transport("pager", print)


def test_auxiliary_tasks_refuse_builtin_and_foreign_keys() -> None:
    runtime = Runtime(RuntimeConfig())
    first = context("kct_first", runtime)
    first.register_auxiliary_task("summaries", display_name="Summaries")
    first.commit()

    with pytest.raises(RegistrationRuleError, match=r"auxiliary_task\.builtin"):
        context("kct_second", runtime).register_auxiliary_task("vision")
    with pytest.raises(RegistrationRuleError, match="by plugin 'kct_first'"):
        context("kct_second", runtime).register_auxiliary_task("summaries")


def test_redaction_patterns_return_how_many_were_accepted() -> None:
    ctx = context()

    accepted = ctx.register_redaction_patterns([r"sk-[A-Za-z0-9]+", "(unclosed", re.compile("x")])

    assert accepted == 2
    assert "redaction_patterns.compile" in ctx.warnings[0]


def test_a_rule_check_that_trips_on_an_odd_argument_reports_it() -> None:
    class Odd(dict):  # type: ignore[type-arg]
        def get(self, *args: Any) -> Any:
            msg = "odd mapping"
            raise RuntimeError(msg)

    ctx = context()

    record = ctx.register_tool("lookup", "kct", Odd(), handler)

    assert record is not None  # the schema-name check is a warning
    assert "checking it raised RuntimeError: odd mapping" in ctx.warnings[0]


def test_the_docs_page_lists_every_method_and_rule() -> None:
    page = (Path(__file__).parents[1] / "docs" / "hermes-surface.md").read_text(encoding="utf-8")
    rows = {line.split("|")[1].strip(" `"): line for line in page.splitlines() if "| `" in line}

    for method in HERMES_SURFACE:
        row = rows.get(method.name, "")
        assert f"`{method.kind}`" in row, method.name
        assert all(f"`{rule.id}` ({rule.severity})" in row for rule in method.rules), method.name
