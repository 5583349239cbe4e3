"""The fixtures plugin authors use in their own suites: ``kora_runtime``, ``kora_plugin``,
``kora_companions`` and the host behind them (:mod:`kora_conformance.testing`).

Most tests here write a plugin project into a ``pytester`` directory and run its author's own
test suite, as the author would; the rest use the fixtures directly (this project's runs load
the kit's plugin too).
"""

from __future__ import annotations

import logging
import os
import subprocess
import sys
import textwrap
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import anthropic  # noqa: F401 - imported here once: each in-process pytester run would re-import it
import pytest

import reference_runtime
from kora_conformance import testing
from kora_conformance.testing import (
    HostWarning,
    PluginHost,
    PluginMisbehaved,
    combine_results,
)
from kora_conformance.testing._companions import HostRuntime
from reference_runtime import IdentitySpec, PluginContext

pytest_plugins = ["pytester"]

ECHO_MANIFEST = """\
name: echo
version: "1.0"
hooks: [pre_llm_call, pre_agent_identity_set]
"""

#: A directory plugin with a hook, an identity provider and a daemon, and module state that
#: would leak between tests if the plugin were not imported afresh for each.
ECHO = """\
from agent.background_daemon_registry import PeriodicTaskSpec
from agent.identity_spec import IdentitySpec

REGISTERED = []
TICKS = []


def context(**kwargs):
    return {"context": f"echo: {kwargs['user_message']}"}


def provider(*, engine=None, **kwargs):
    return IdentitySpec("Echo persona", "You are Echo.", {"agent_name": "Echo"})


def start(coordinator=None):
    pass


def stop():
    pass


def tick():
    TICKS.append(1)


def register(ctx):
    REGISTERED.append(1)
    ctx.register_hook("pre_llm_call", context)
    ctx.register_identity_provider(provider)
    ctx.register_background_daemon(
        "echo.ticker", start, stop, periodic_task=PeriodicTaskSpec(60, tick, "tick")
    )
"""

#: The echo plugin's author's own suite: one test per fixture and helper.
ECHO_SUITE = """\
import os
import sys

from reference_runtime import IdentitySpec


def test_the_plugin_loads(kora_plugin):
    assert kora_plugin.report.errors == {}
    assert kora_plugin.plugin.hook_names == ("pre_llm_call", "pre_agent_identity_set")


def test_the_hook_adds_context(kora_plugin):
    outcome = kora_plugin.invoke_hook("pre_llm_call", user_message="hi", session_id="s1")
    assert outcome.results == (("echo", {"context": "echo: hi"}),)
    assert outcome.combined == "echo: hi"
    assert kora_plugin.module.REGISTERED == [1]


def test_the_identity_reaches_the_wire(kora_plugin):
    capture = kora_plugin.send("Hello")
    assert capture.system == ["Echo persona", "You are Echo."]
    assert capture.messages == [{"role": "user", "content": "Hello"}]
    assert capture.engine.identity.plugin == "echo"


def test_a_provider_first_in_enabled_wins(kora_plugin, kora_companions):
    kora_companions.identity("rival", IdentitySpec("", "You are Rival."), first=True)
    assert kora_plugin.enabled == ("rival", "echo")
    assert kora_plugin.resolve_identity().plugin == "rival"


def test_a_declining_provider_first_loses(kora_plugin, kora_companions):
    kora_companions.identity("shy", None, first=True)
    assert kora_plugin.resolve_identity().plugin == "echo"


def test_a_raising_companion_hook_is_isolated(kora_plugin, kora_companions):
    kora_companions.raising_hook("grumpy", "pre_llm_call", first=True)
    outcome = kora_plugin.invoke_hook("pre_llm_call", user_message="hi")
    assert outcome.combined == "echo: hi"
    assert [w.plugin for w in outcome.warnings] == ["grumpy"]


def test_the_daemon_fires_every_minute(kora_plugin):
    run = kora_plugin.run_daemons(150)
    assert run.fires("tick") == [60.0, 120.0]
    assert run.exit_status == 0
    assert run.failures() == []
    assert kora_plugin.module.TICKS == [1, 1]


def test_kora_runtime_is_the_same_host(kora_plugin, kora_runtime):
    assert kora_runtime is kora_plugin


def test_nothing_is_left_behind():
    assert "agent" not in sys.modules
    assert not [n for n in sys.modules if n.startswith("hermes_plugins.")]
    assert "KORA_DOCS_MARKER" not in os.environ
"""


def write_echo(root: Path, body: str = ECHO, manifest: str = ECHO_MANIFEST) -> Path:
    directory = root / "plugins" / "echo"
    directory.mkdir(parents=True)
    (directory / "plugin.yaml").write_text(manifest, encoding="utf-8")
    (directory / "__init__.py").write_text(body, encoding="utf-8")
    return directory


def write_suite(pytester: pytest.Pytester, suite: str, name: str = "test_echo") -> Path:
    tests = pytester.path / "tests"
    tests.mkdir(exist_ok=True)
    path = tests / f"{name}.py"
    path.write_text(textwrap.dedent(suite), encoding="utf-8")
    return path


def run(pytester: pytest.Pytester, *args: str) -> pytest.RunResult:
    return pytester.runpytest("-p", "no:cacheprovider", "-p", "no:randomly", *args)


# --- availability and cost ----------------------------------------------------------------------


def test_the_fixtures_are_available_without_the_conformance_option(
    pytester: pytest.Pytester,
) -> None:
    result = run(pytester, "--fixtures")

    for name in ("kora_runtime", "kora_plugin", "kora_companions", "kora_plugin_source"):
        result.stdout.fnmatch_lines([f"{name}*"])


def test_a_run_that_uses_no_fixture_imports_no_runtime(pytester: pytest.Pytester) -> None:
    # respx is a pytest plugin of its own, loaded in every run; the kit adds nothing.
    pytester.makepyfile(
        "import sys\n"
        "def test_plain():\n"
        "    heavy = {'reference_runtime', 'anthropic', 'hypothesis'}\n"
        "    assert not heavy & set(sys.modules), heavy & set(sys.modules)\n"
    )

    result = pytester.runpytest_subprocess("-p", "no:cacheprovider", "-p", "no:randomly")

    result.assert_outcomes(passed=1)


def test_the_fixtures_module_imports_only_pytest() -> None:
    code = (
        "import sys, kora_conformance.run._fixtures\n"
        "print([m for m in ('anthropic', 'reference_runtime', 'hypothesis', 'respx') "
        "if m in sys.modules])\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)

    assert out.stdout.strip() == "[]"


# --- an author's suite --------------------------------------------------------------------------


def test_an_authors_suite_using_every_fixture_passes(pytester: pytest.Pytester) -> None:
    write_echo(pytester.path)
    write_suite(pytester, ECHO_SUITE)

    result = run(pytester, "--kora-plugin", "plugins/echo", "tests")

    result.assert_outcomes(passed=9)


def test_the_plugin_can_be_named_by_overriding_kora_plugin_source(
    pytester: pytest.Pytester,
) -> None:
    write_echo(pytester.path)
    write_suite(pytester, ECHO_SUITE)
    pytester.makeconftest(
        "import pytest\n@pytest.fixture\ndef kora_plugin_source():\n    return 'plugins/echo'\n"
    )

    result = run(pytester, "tests")

    result.assert_outcomes(passed=9)


def test_an_uninstalled_entry_point_project_is_found_in_the_rootdir(
    pytester: pytest.Pytester,
) -> None:
    pytester.makefile(
        ".toml",
        pyproject=(
            '[project]\nname = "kct-greeter"\nversion = "0.3.0"\n\n'
            '[project.entry-points."hermes_agent.plugins"]\nkct_greeter = "kct_greeter:register"\n'
        ),
    )
    package = pytester.path / "src" / "kct_greeter"
    package.mkdir(parents=True)
    (package / "__init__.py").write_text(
        "CALLS = []\n"
        "def greet(**kwargs):\n"
        "    CALLS.append(kwargs)\n"
        "    return 'Hello from greeter'\n"
        "def register(ctx):\n"
        "    ctx.register_hook('transform_llm_output', greet)\n",
        encoding="utf-8",
    )
    write_suite(
        pytester,
        """
        import sys

        def test_the_transform_replaces_the_output(kora_plugin):
            outcome = kora_plugin.invoke_hook("transform_llm_output", response_text="raw")
            assert outcome.combined == "Hello from greeter"
            assert kora_plugin.plugin.route == "entry_point"
            assert kora_plugin.module.CALLS == [{"response_text": "raw"}]

        def test_the_module_is_gone_afterwards():
            assert "kct_greeter" not in sys.modules
        """,
        name="test_greeter",
    )

    result = run(pytester, "tests")

    result.assert_outcomes(passed=2)


def test_a_rootdir_without_a_plugin_says_how_to_name_one(pytester: pytest.Pytester) -> None:
    write_suite(pytester, "def test_it(kora_plugin):\n    pass\n")

    result = run(pytester, "tests")

    result.assert_outcomes(errors=1)
    result.stdout.fnmatch_lines(
        [
            "*TargetError: the kora_plugin fixture found no plugin to test: * is not a plugin*; "
            "pass --kora-plugin DIR|NAME, or override the kora_plugin_source fixture*",
        ]
    )


def test_importing_a_fork_style_plugin_at_the_top_of_a_test_module_says_what_to_do(
    pytester: pytest.Pytester,
) -> None:
    write_echo(pytester.path)
    write_suite(
        pytester,
        """
        import sys

        sys.path.insert(0, "plugins")
        import echo

        def test_it():
            pass
        """,
    )

    result = run(pytester, "--kora-plugin", "plugins/echo", "tests")

    result.assert_outcomes(errors=1)
    result.stdout.fnmatch_lines(
        [
            "*No module named 'agent'*",
            "*kora_conformance*",
            "The fork's agent.* import paths exist only while a kora fixture*",
        ]
    )


def test_a_plugin_that_fails_to_load_fails_the_authors_test_readably(
    pytester: pytest.Pytester,
) -> None:
    write_echo(pytester.path, "def register(ctx):\n    raise ValueError('no config file')\n")
    write_suite(
        pytester,
        """
        def test_the_hook(kora_plugin):
            kora_plugin.invoke_hook("pre_llm_call", user_message="hi")
        """,
    )

    result = run(pytester, "--kora-plugin", "plugins/echo", "tests")

    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines(
        [
            "*PluginNotLoaded: plugin echo 1.0 (*plugins/echo) did not load: plugin 'echo' "
            "(*plugins/echo) failed to load: ValueError: no config file at "
            "*plugins/echo/__init__.py:2; its registrations were rolled back*",
        ]
    )


def test_a_hook_of_the_plugin_that_raises_fails_the_authors_test_readably(
    pytester: pytest.Pytester,
) -> None:
    write_echo(pytester.path, ECHO.replace('return {"context"', 'raise KeyError("user")  #'))
    write_suite(
        pytester,
        """
        def test_the_hook(kora_plugin):
            kora_plugin.invoke_hook("pre_llm_call", user_message="hi")

        def test_the_hosts_view(kora_plugin):
            outcome = kora_plugin.invoke_hook(
                "pre_llm_call", raise_errors=False, user_message="hi"
            )
            assert outcome.combined is None
            assert isinstance(outcome.warnings[0].error, KeyError)
        """,
    )

    result = run(pytester, "--kora-plugin", "plugins/echo", "tests")

    result.assert_outcomes(failed=1, passed=1)
    result.stdout.fnmatch_lines(
        [
            "*KeyError: 'user'*",
            "*PluginMisbehaved: plugin 'echo': pre_llm_call callback *context raised KeyError: "
            "'user'; skipped",
            "*pass raise_errors=False to see what the host makes of it*",
        ]
    )


def test_a_provider_returning_the_wrong_type_fails_the_authors_test(
    pytester: pytest.Pytester,
) -> None:
    write_echo(
        pytester.path,
        ECHO.replace("return IdentitySpec(", "return 'You are Echo.'  # IdentitySpec("),
    )
    write_suite(
        pytester,
        """
        def test_identity(kora_plugin):
            kora_plugin.resolve_identity()
        """,
    )

    result = run(pytester, "--kora-plugin", "plugins/echo", "tests")

    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines(
        ["*PluginMisbehaved: plugin 'echo': identity provider *provider returned str*"]
    )


# --- no leak: orders and workers ----------------------------------------------------------------

LEAK_SUITE = """\
import os
import sys


def test_uses_the_plugin(kora_plugin):
    os.environ["KORA_DOCS_MARKER"] = "set by a test"
    assert kora_plugin.module.REGISTERED == [1]
    assert "agent" in sys.modules


def test_uses_it_again(kora_plugin):
    assert kora_plugin.module.REGISTERED == [1]
    assert kora_plugin.home == __import__("pathlib").Path(os.environ["HOME"])


def test_sees_nothing_of_the_others():
    assert "agent" not in sys.modules
    assert "KORA_DOCS_MARKER" not in os.environ
    assert not [n for n in sys.modules if n.startswith("hermes_plugins.")]
"""


def outcomes(result: pytest.RunResult) -> dict[str, int]:
    return {k: v for k, v in result.parseoutcomes().items() if k in {"passed", "failed"}}


def test_the_suite_gives_the_same_results_in_any_order_and_on_two_workers(
    pytester: pytest.Pytester,
) -> None:
    write_echo(pytester.path)
    write_suite(pytester, ECHO_SUITE, name="test_a_echo")
    write_suite(pytester, LEAK_SUITE, name="test_b_leak")
    a, b = "tests/test_a_echo.py", "tests/test_b_leak.py"
    leak_reversed = [
        f"{b}::{t}"
        for t in ("test_sees_nothing_of_the_others", "test_uses_it_again", "test_uses_the_plugin")
    ]
    base = ("--kora-plugin", "plugins/echo")

    forward = run(pytester, *base, a, b)
    backward = run(pytester, *base, *leak_reversed, b, a)
    workers = pytester.runpytest_subprocess("-p", "no:randomly", "-n", "2", *base, "tests")

    assert outcomes(forward) == {"passed": 12}
    assert outcomes(backward) == {"passed": 12}
    assert outcomes(workers) == {"passed": 12}


# --- the host, used directly --------------------------------------------------------------------


def test_isolation_restores_the_environment_and_the_aliases(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("KORA_SYSTEM_PROMPT_PATH", "/somewhere/prompt.md")
    home_before = os.environ.get("HOME")

    with testing.isolation(tmp_path):
        assert "KORA_SYSTEM_PROMPT_PATH" not in os.environ
        assert os.environ["HOME"] == str(tmp_path)
        from agent.identity_spec import IdentitySpec as Aliased

        assert Aliased is IdentitySpec
        os.environ["KORA_NEW"] = "1"

    assert os.environ["KORA_SYSTEM_PROMPT_PATH"] == "/somewhere/prompt.md"
    assert os.environ.get("HOME") == home_before
    assert "KORA_NEW" not in os.environ
    assert "agent" not in sys.modules


def test_companions_are_added_before_the_runtime_loads(kora_runtime: PluginHost) -> None:
    kora_runtime.companions.identity("kct_alpha", "claims")
    assert kora_runtime.resolve_identity().plugin == "kct_alpha"

    with pytest.raises(RuntimeError, match="add companions at the top of the test"):
        kora_runtime.companions.identity("kct_beta", "claims")


def test_companion_names_must_be_valid_and_unique(kora_runtime: PluginHost) -> None:
    kora_runtime.companions.identity("kct_one")

    with pytest.raises(ValueError, match="already taken"):
        kora_runtime.companions.identity("kct_one")
    with pytest.raises(ValueError, match="not a valid plugin name"):
        kora_runtime.companions.identity("has space")
    with pytest.raises(ValueError, match="unknown provider behaviour 'sometimes'"):
        kora_runtime.companions.identity("kct_two", "sometimes")  # type: ignore[arg-type]


def test_companions_load_in_enabled_order(kora_runtime: PluginHost) -> None:
    kora_runtime.companions.identity("kct_second", IdentitySpec("", "Second."))
    kora_runtime.companions.identity("kct_first", "raises", first=True)
    kora_runtime.companions.identity("kct_third", IdentitySpec("", "Third."))

    resolved = kora_runtime.resolve_identity()

    assert kora_runtime.enabled == ("kct_first", "kct_second", "kct_third")
    assert [p.key for p in kora_runtime.report.loaded] == list(kora_runtime.enabled)
    assert resolved.plugin == "kct_second"


def test_a_raising_pre_tool_call_fails_closed(kora_runtime: PluginHost) -> None:
    kora_runtime.companions.hook(
        "kct_approver", "pre_tool_call", lambda **kw: {"action": "approve"}
    )
    kora_runtime.companions.raising_hook("kct_broken", "pre_tool_call")

    outcome = kora_runtime.invoke_hook("pre_tool_call", tool_name="shell", args={})

    assert outcome.combined["action"] == "block"
    assert "kct_broken" in outcome.combined["message"]


def test_the_wire_carries_a_companions_identity(kora_runtime: PluginHost) -> None:
    kora_runtime.companions.identity("kct_voice", IdentitySpec("Calm.", "You are Voice."))

    capture = kora_runtime.send("Hi", reply="Hello back")

    assert capture.system == ["Calm.", "You are Voice."]
    assert capture.response.content[0].text == "Hello back"


def test_the_fallback_prompt_lives_in_the_tests_home(kora_runtime: PluginHost) -> None:
    path = kora_runtime.write_fallback_prompt("You are the fallback.")

    resolved = kora_runtime.resolve_identity()

    assert resolved.source == "file"
    assert resolved.path == path
    assert path.is_relative_to(kora_runtime.home)


# --- hook combination rules ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("hook", "results", "combined"),
    [
        (
            "pre_tool_call",
            [("a", {"action": "approve"}), ("b", {"action": "block", "message": "no"})],
            {"action": "block", "message": "no"},
        ),
        (
            "pre_tool_call",
            [
                ("a", {"action": "modify", "args": {"x": 1, "y": 1}}),
                ("b", {"action": "modify", "args": {"y": 2}}),
            ],
            {"action": "modify", "args": {"x": 1, "y": 2}},
        ),
        ("pre_tool_call", [("a", "not a directive")], None),
        ("pre_llm_call", [("a", "one"), ("b", {"context": "two"}), ("c", "  ")], "one\n\ntwo"),
        ("pre_llm_call", [("a", "x" * 10_005)], "x" * 10_000),
        ("transform_tool_result", [("a", 3), ("b", ""), ("c", "third")], ""),
        ("transform_llm_output", [("a", ""), ("b", "second")], "second"),
        (
            "transform_api_error_classification",
            [("a", {"reason": ""}), ("b", {"reason": "rate_limit"})],
            {"reason": "rate_limit"},
        ),
        (
            "pre_transcription",
            [("a", {"lang": "en", "x": 1}), ("b", {"lang": "fr"})],
            {"lang": "fr", "x": 1},
        ),
        (
            "pre_gateway_dispatch",
            [("a", {"action": "later"}), ("b", {"action": "skip"})],
            {"action": "skip"},
        ),
        (
            "pre_api_request_mutable",
            [("a", {"override": {"model": "m1"}}), ("b", {"override": {"model": "m2"}})],
            {"model": "m2"},
        ),
        ("on_session_start", [("a", "ignored")], None),
    ],
)
def test_results_combine_by_the_upstream_rule(
    hook: str, results: Sequence[tuple[str, Any]], combined: Any
) -> None:
    assert combine_results(hook, results) == combined


def test_a_raised_pre_tool_call_callback_blocks_even_after_an_approve() -> None:
    warning = HostWarning("b", "plugin 'b': pre_tool_call callback raised", RuntimeError("x"))

    combined = combine_results("pre_tool_call", [("a", {"action": "approve"})], [warning])

    assert combined == {"action": "block", "message": warning.message}


# --- tools and commands, through the runtime's query interface ----------------------------------


class RecordingContext(PluginContext):
    """A plugin context with the upstream registration calls for tools and commands, recording
    them behind the query interface the host uses (what a runtime that has them provides)."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.tools: dict[str, Callable[..., Any]] = {}
        self.commands: dict[str, Callable[..., Any]] = {}
        self.cli: dict[str, Any] = {}

    def register_tool(
        self, name: str, toolset: str, schema: object, handler: Callable[..., Any]
    ) -> None:
        self.tools[name] = handler

    def register_command(self, name: str, handler: Callable[..., Any]) -> None:
        self.commands[name] = handler

    def register_cli_command(
        self, name: str, help: str, setup_fn: Any, handler_fn: Any = None
    ) -> None:
        self.cli[name] = (setup_fn, handler_fn)

    def tool_names(self) -> list[str]:
        return list(self.tools)

    def tool_handler(self, name: str) -> Callable[..., Any] | None:
        return self.tools.get(name)

    def command_names(self) -> list[str]:
        return list(self.commands)

    def command_handler(self, name: str) -> Callable[..., Any] | None:
        return self.commands.get(name)

    def cli_command_names(self) -> list[str]:
        return list(self.cli)

    def cli_command(self, name: str) -> Any:
        return self.cli.get(name)


@pytest.fixture
def recording_runtime(kora_runtime: PluginHost, monkeypatch: pytest.MonkeyPatch) -> PluginHost:
    monkeypatch.setattr(HostRuntime, "context_class", RecordingContext)
    return kora_runtime


def tool_plugin(ctx: Any) -> None:
    async def weather(args: dict[str, Any], **kwargs: Any) -> str:
        return f'{{"city": "{args["city"]}", "celsius": 12, "task": "{kwargs.get("task_id")}"}}'

    def dict_tool(args: dict[str, Any], **kwargs: Any) -> Any:
        return {"not": "json text"}

    def roll(raw: str) -> str:
        return f"rolled {raw or 'd6'}"

    def setup(parser: Any) -> None:
        parser.add_argument("--count", type=int, default=1)

    def handler(namespace: Any) -> int:
        print(f"count={namespace.count}")
        return 0

    ctx.register_tool("weather", "demo", {}, weather)
    ctx.register_tool("dict_tool", "demo", {}, dict_tool)
    ctx.register_command("roll", roll)
    ctx.register_cli_command("tally", "count things", setup, handler)


def test_a_tool_is_called_with_args_and_its_json_parsed(recording_runtime: PluginHost) -> None:
    recording_runtime.companions.plugin("kct_tools", tool_plugin)

    result = recording_runtime.call_tool("weather", {"city": "Oslo"}, task_id="t1")

    assert result == {"city": "Oslo", "celsius": 12, "task": "t1"}


def test_a_tool_returning_no_json_string_is_a_readable_failure(
    recording_runtime: PluginHost,
) -> None:
    recording_runtime.companions.plugin("kct_tools", tool_plugin)

    with pytest.raises(
        PluginMisbehaved,
        match=r"tool 'dict_tool' of plugin 'kct_tools' returned dict, not a JSON string",
    ):
        recording_runtime.call_tool("dict_tool", {})
    with pytest.raises(
        LookupError, match=r"no tool 'wether' is registered \(registered: weather, dict_tool\)"
    ):
        recording_runtime.call_tool("wether", {})


def test_slash_and_cli_commands_run_as_the_host_runs_them(recording_runtime: PluginHost) -> None:
    recording_runtime.companions.plugin("kct_tools", tool_plugin)

    assert recording_runtime.run_command("/roll", "2d20") == "rolled 2d20"
    assert recording_runtime.run_cli_command("tally", ["--count", "3"]) == (0, "count=3\n")
    with pytest.raises(ValueError, match="hermes tally --count many: the arguments do not parse"):
        recording_runtime.run_cli_command("tally", ["--count", "many"])


def test_an_unregistered_tool_or_command_is_named(kora_runtime: PluginHost) -> None:
    # The reference runtime records tools and commands (ctx.tool_names() and the others), so a
    # name nobody registered is a LookupError that says what is registered.
    kora_runtime.companions.identity("kct_plain")

    with pytest.raises(LookupError, match=r"no tool 'weather' is registered \(registered: none\)"):
        kora_runtime.call_tool("weather", {})
    with pytest.raises(LookupError, match="roll"):
        kora_runtime.run_command("roll")
    with pytest.raises(LookupError, match="tally"):
        kora_runtime.run_cli_command("tally")


def test_the_public_names_are_sorted_and_exist() -> None:
    assert testing.__all__ == sorted(
        testing.__all__, key=lambda n: (not n.isupper(), not n[0].isupper(), n)
    )
    assert all(hasattr(testing, name) for name in testing.__all__)
    assert reference_runtime.Runtime.close.__doc__


@pytest.fixture
def raising_echo(tmp_path: Path) -> Any:
    """A host over an echo plugin whose hook raises, built as the kora_plugin fixture builds it."""
    write_echo(tmp_path, ECHO.replace('return {"context"', 'raise KeyError("user")  #'))
    target = testing.resolve_plugin(tmp_path / "plugins" / "echo", tmp_path)
    home, scratch = tmp_path / "home", tmp_path / "scratch"
    home.mkdir()
    scratch.mkdir()
    with testing.isolation(home, target=target, scratch=scratch):
        host = PluginHost(home=home, scratch=scratch, target=target)
        yield host
        host.close()


def test_a_quieted_runtime_logger_does_not_hide_the_plugins_failure(
    raising_echo: PluginHost, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(logging.getLogger("reference_runtime"), "level", logging.ERROR)

    with pytest.raises(PluginMisbehaved, match=r"pre_llm_call callback .* raised KeyError") as info:
        raising_echo.invoke_hook("pre_llm_call", user_message="hi")

    assert isinstance(info.value.__cause__, KeyError)
    assert logging.getLogger("reference_runtime").level == logging.ERROR


@pytest.mark.anyio
async def test_daemons_run_from_an_async_test(kora_runtime: PluginHost) -> None:
    ticks: list[int] = []

    def register(ctx: Any) -> None:
        ctx.register_background_daemon(
            "kct.ticker",
            lambda coordinator=None: None,
            lambda: None,
            periodic_task=reference_runtime.PeriodicTaskSpec(30, lambda: ticks.append(1), "t"),
        )

    kora_runtime.companions.plugin("kct_ticker", register)

    run = kora_runtime.run_daemons(100)

    assert run.fires("t") == [30.0, 60.0, 90.0]
    assert ticks == [1, 1, 1]
