"""Contract 2.1 and 2.3: discovery, loading, isolation and hook dispatch, through ``Runtime``."""

from __future__ import annotations

import asyncio
import importlib
import logging
import shutil
import sys
import threading
import types
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import pytest

from reference_runtime import (
    HERMES_HOOKS,
    BackgroundDaemonEntry,
    ConfigError,
    KoraError,
    Runtime,
    RuntimeConfig,
    Shadowing,
    background_daemon_registry,
    compat,
    listener_registry,
    load_config,
)
from reference_runtime._cli import main as cli_main

pytestmark = pytest.mark.usefixtures("clean_kora_env", "isolated_imports")

MakePlugin = Callable[..., Path]
InstallDist = Callable[..., Path]


def returning(value: str) -> str:
    """A plugin body whose ``on_session_start`` callback returns ``value``."""
    return (
        "def register(ctx):\n"
        f"    ctx.register_hook('on_session_start', lambda **kwargs: {value!r})\n"
    )


COUNTING = """\
REGISTER_CALLS = []

def register(ctx):
    REGISTER_CALLS.append(ctx.name)
    ctx.register_hook("on_session_start", lambda **kwargs: ctx.name)
"""


def make_runtime(
    roots: Path | Sequence[Path],
    *enabled: str,
    disabled: Sequence[str] = (),
    groups: Sequence[str] = (),
    fallback: Path | None = None,
) -> Runtime:
    plugin_dirs = (roots,) if isinstance(roots, Path) else tuple(roots)
    return Runtime(
        RuntimeConfig(
            enabled=enabled,
            disabled=frozenset(disabled),
            plugin_dirs=plugin_dirs,
            entry_point_groups=tuple(groups),
            system_prompt_path=fallback,
        )
    )


def loaded_keys(runtime: Runtime) -> list[str]:
    return [plugin.key for plugin in runtime.load().loaded]


# --- directory plugins -------------------------------------------------------------------------


def test_directory_plugin_loads_and_is_dispatched(
    make_plugin: MakePlugin, plugins_root: Path
) -> None:
    directory = make_plugin("kct_alpha", returning("alpha"), manifest={"name": "kct_alpha"})
    runtime = make_runtime(plugins_root, "kct_alpha")

    report = runtime.load()

    assert report.errors == {}
    plugin = report.plugin("kct_alpha")
    assert plugin is not None
    assert plugin.route == "directory"
    assert plugin.origin == str(directory)
    assert plugin.manifest.name == "kct_alpha"
    assert plugin.module is sys.modules["hermes_plugins.kct_alpha"]
    assert plugin.hook_names == ("on_session_start",)
    assert runtime.invoke_hook("on_session_start") == ["alpha"]


@pytest.mark.parametrize(
    "enabled",
    [("kct_c", "kct_a", "kct_b"), ("kct_b", "kct_c", "kct_a"), ("kct_a", "kct_b", "kct_c")],
)
def test_enabled_order_is_load_and_dispatch_order(
    make_plugin: MakePlugin, plugins_root: Path, enabled: tuple[str, ...]
) -> None:
    for name in ("kct_a", "kct_b", "kct_c"):
        make_plugin(name, returning(name))
    runtime = make_runtime(plugins_root, *enabled)

    assert loaded_keys(runtime) == list(enabled)
    assert runtime.invoke_hook("on_session_start") == list(enabled)


def test_plugins_that_are_not_enabled_are_not_imported(
    make_plugin: MakePlugin, plugins_root: Path
) -> None:
    make_plugin("kct_on", returning("on"))
    make_plugin("kct_off", "raise AssertionError('must not be imported')\n")
    runtime = make_runtime(plugins_root, "kct_on")

    assert loaded_keys(runtime) == ["kct_on"]
    assert "hermes_plugins.kct_off" not in sys.modules


def test_disabled_beats_enabled(make_plugin: MakePlugin, plugins_root: Path) -> None:
    make_plugin("kct_keep", returning("keep"))
    make_plugin("kct_drop", returning("drop"))
    runtime = make_runtime(plugins_root, "kct_drop", "kct_keep", disabled=["kct_drop"])

    report = runtime.load()

    assert loaded_keys(runtime) == ["kct_keep"]
    assert report.disabled == ["kct_drop"]
    assert "hermes_plugins.kct_drop" not in sys.modules
    assert runtime.invoke_hook("on_session_start") == ["keep"]


def test_enabled_but_absent_is_reported_missing(
    make_plugin: MakePlugin, plugins_root: Path, caplog: pytest.LogCaptureFixture
) -> None:
    make_plugin("kct_here", returning("here"))
    runtime = make_runtime(plugins_root, "kct_ghost", "kct_here")

    with caplog.at_level(logging.WARNING, logger="reference_runtime"):
        report = runtime.load()

    assert report.missing == ["kct_ghost"]
    assert "kct_ghost" not in report.errors
    assert any("kct_ghost" in w and "not found" in w for w in report.warnings)
    assert "kct_ghost" in caplog.text
    assert loaded_keys(runtime) == ["kct_here"]


def test_load_happens_once(make_plugin: MakePlugin, plugins_root: Path) -> None:
    make_plugin("kct_count", COUNTING)
    runtime = make_runtime(plugins_root, "kct_count")

    first = runtime.load()
    second = runtime.load()

    assert first is second
    assert sys.modules["hermes_plugins.kct_count"].REGISTER_CALLS == ["kct_count"]
    assert runtime.invoke_hook("on_session_start") == ["kct_count"]


def test_hidden_and_non_plugin_directories_are_ignored(
    make_plugin: MakePlugin, plugins_root: Path
) -> None:
    make_plugin("_kct_private", returning("private"), manifest="name: _kct_private\n")
    (plugins_root / "kct_no_manifest").mkdir()
    (plugins_root / "kct_no_manifest" / "__init__.py").write_text("def register(ctx): pass\n")
    (plugins_root / "kct_file.py").write_text("def register(ctx): pass\n")
    runtime = make_runtime(plugins_root, "_kct_private", "kct_no_manifest", "kct_file")

    assert runtime.load().missing == ["_kct_private", "kct_no_manifest", "kct_file"]


# --- bad plugins: each one is recorded, and a good plugin beside it still loads -----------------

BAD_PLUGINS: dict[str, tuple[str | None, str, list[str]]] = {
    # case: (manifest text or None for a valid one, __init__ body, fragments of the error)
    "malformed-yaml": (
        "name: kct_bad\nhooks: [on_session_start\nversion: '1'\n",
        returning("bad"),
        ["plugin.yaml:3", "not valid YAML"],
    ),
    "yaml-list": ("- name: kct_bad\n", returning("bad"), ["plugin.yaml", "found a YAML list"]),
    "missing-name": ("version: '1'\n", returning("bad"), ["plugin.yaml", "'name' is missing"]),
    "constructor-error": (
        "name: kct_bad\nreleased: 2024-13-01\n",
        returning("bad"),
        ["plugin.yaml:2", "ValueError", "month must be in 1..12"],
    ),
    "duplicate-key": (
        "name: kct_bad\nversion: '1'\nversion: '2'\n",
        returning("bad"),
        ["plugin.yaml:3", "'version' appears more than once"],
    ),
    "register-missing": (None, "VALUE = 1\n", ["has no register(ctx)"]),
    "register-not-callable": (None, "register = 5\n", ["has no register(ctx)"]),
    "import-raises": (
        None,
        "raise RuntimeError('boom at import')\n",
        ["RuntimeError: boom at import", "__init__.py"],
    ),
    "register-raises": (
        None,
        "def register(ctx):\n    raise ValueError('boom in register')\n",
        ["ValueError: boom in register"],
    ),
    "hook-not-callable": (
        None,
        "def register(ctx):\n    ctx.register_hook('on_session_start', 42)\n",
        ["register_hook('on_session_start', ...) needs a callable", "int"],
    ),
    "hook-name-not-str": (
        None,
        "def register(ctx):\n    ctx.register_hook(None, lambda **kw: 1)\n",
        ["register_hook needs a hook name string"],
    ),
    "provider-not-callable": (
        None,
        "def register(ctx):\n    ctx.register_identity_provider('Marvin')\n",
        ["register_identity_provider needs a callable", "str"],
    ),
}


@pytest.mark.parametrize("case", list(BAD_PLUGINS))
def test_a_bad_plugin_is_recorded_and_the_others_still_load(
    make_plugin: MakePlugin,
    plugins_root: Path,
    caplog: pytest.LogCaptureFixture,
    case: str,
) -> None:
    manifest, body, fragments = BAD_PLUGINS[case]
    make_plugin("kct_bad", body, manifest=manifest)
    make_plugin("kct_good", returning("good"))
    make_plugin("kct_good2", returning("good2"))
    runtime = make_runtime(plugins_root, "kct_good", "kct_bad", "kct_good2")

    with caplog.at_level(logging.WARNING, logger="reference_runtime"):
        report = runtime.load()

    assert set(report.errors) == {"kct_bad"}
    message = report.errors["kct_bad"]
    assert "kct_bad" in message
    for fragment in fragments:
        assert fragment in message
    assert message in caplog.text
    assert loaded_keys(runtime) == ["kct_good", "kct_good2"]
    assert runtime.invoke_hook("on_session_start") == ["good", "good2"]


def test_a_plugin_directory_without_init_is_recorded(
    make_plugin: MakePlugin, plugins_root: Path
) -> None:
    (make_plugin("kct_noinit", returning("x")) / "__init__.py").unlink()
    make_plugin("kct_good", returning("good"))
    runtime = make_runtime(plugins_root, "kct_noinit", "kct_good")

    report = runtime.load()

    assert "no __init__.py" in report.errors["kct_noinit"]
    assert loaded_keys(runtime) == ["kct_good"]


HALF_WAY = """\
import kct_calls

def provider(**kwargs):
    kct_calls.PROVIDER_CALLS.append(kwargs)
    from reference_runtime import IdentitySpec
    return IdentitySpec("", "half-way prompt")

def register(ctx):
    ctx.register_hook("on_session_start", lambda **kwargs: "half-way")
    ctx.register_identity_provider(provider)
    ctx.register_hook("post_tool_call", lambda **kwargs: "half-way")
    raise RuntimeError("register failed half-way")
"""


def test_register_raising_half_way_rolls_back_its_registrations(
    make_plugin: MakePlugin, plugins_root: Path, tmp_path: Path
) -> None:
    calls = types.ModuleType("kct_calls")
    calls.PROVIDER_CALLS = []  # type: ignore[attr-defined]
    sys.modules["kct_calls"] = calls
    make_plugin("kct_half", HALF_WAY)
    make_plugin("kct_good", returning("good"))
    fallback = tmp_path / "fallback.md"
    fallback.write_text("fallback prompt", encoding="utf-8")
    runtime = make_runtime(plugins_root, "kct_half", "kct_good", fallback=fallback)

    report = runtime.load()

    assert "RuntimeError: register failed half-way" in report.errors["kct_half"]
    assert "rolled back" in report.errors["kct_half"]
    assert runtime.invoke_hook("on_session_start") == ["good"]
    assert runtime.invoke_hook("post_tool_call") == []
    resolved = runtime.resolve_identity()
    assert (resolved.source, resolved.spec.system_prompt_content) == ("file", "fallback prompt")
    assert calls.PROVIDER_CALLS == []  # type: ignore[attr-defined]
    # The failed plugin's module is dropped, so a fixed copy imports afresh.
    assert "hermes_plugins.kct_half" not in sys.modules
    names = [name for name, _ in runtime.plugin_manager.list_name_plugin()]
    assert not any(str(name).startswith("kct_half") for name in names)
    assert runtime.context("kct_half") is None


def test_a_plugin_that_fails_to_import_leaves_no_module_behind(
    make_plugin: MakePlugin, plugins_root: Path
) -> None:
    make_plugin("kct_broken", "import kct_this_module_does_not_exist\n")
    runtime = make_runtime(plugins_root, "kct_broken")

    report = runtime.load()

    assert "ModuleNotFoundError" in report.errors["kct_broken"]
    assert "hermes_plugins.kct_broken" not in sys.modules


def test_unknown_hook_name_is_warned_and_still_stored(
    make_plugin: MakePlugin, plugins_root: Path, caplog: pytest.LogCaptureFixture
) -> None:
    make_plugin(
        "kct_future",
        "def register(ctx):\n"
        "    ctx.register_hook('kct_hook_from_the_future', lambda **kw: kw['x'])\n",
    )
    runtime = make_runtime(plugins_root, "kct_future")

    with caplog.at_level(logging.WARNING, logger="reference_runtime"):
        report = runtime.load()

    assert report.errors == {}
    plugin = report.plugin("kct_future")
    assert plugin is not None
    assert plugin.hook_names == ("kct_hook_from_the_future",)
    assert any("kct_future" in w and "kct_hook_from_the_future" in w for w in report.warnings)
    warned = [r for r in caplog.records if r.levelno == logging.WARNING]
    assert any("kct_hook_from_the_future" in r.getMessage() for r in warned)
    assert runtime.invoke_hook("kct_hook_from_the_future", x=7) == [7]


def test_a_plugin_may_register_more_after_loading(
    make_plugin: MakePlugin, plugins_root: Path
) -> None:
    make_plugin(
        "kct_keeper",
        "CTX = []\ndef register(ctx):\n    CTX.append(ctx)\n",
    )
    runtime = make_runtime(plugins_root, "kct_keeper")
    runtime.load()

    sys.modules["hermes_plugins.kct_keeper"].CTX[0].register_hook(
        "on_session_start", lambda **kw: "late"
    )

    assert runtime.invoke_hook("on_session_start") == ["late"]


# --- invoke_hook semantics ---------------------------------------------------------------------


def test_every_known_hermes_hook_dispatches(make_plugin: MakePlugin, plugins_root: Path) -> None:
    make_plugin(
        "kct_all",
        "from reference_runtime import HERMES_HOOKS\n"
        "def register(ctx):\n"
        "    for name in HERMES_HOOKS:\n"
        "        ctx.register_hook(name, lambda _n=name, **kw: (_n, kw))\n",
    )
    runtime = make_runtime(plugins_root, "kct_all")

    for name in HERMES_HOOKS:
        assert runtime.invoke_hook(name, session_id="s1") == [(name, {"session_id": "s1"})]


def test_callbacks_receive_keywords_only(make_plugin: MakePlugin, plugins_root: Path) -> None:
    make_plugin(
        "kct_kw",
        "def register(ctx):\n"
        "    ctx.register_hook('pre_tool_call', lambda *args, **kwargs: (args, kwargs))\n",
    )
    runtime = make_runtime(plugins_root, "kct_kw")

    result = runtime.invoke_hook("pre_tool_call", tool_name="ls", args={"path": "/"})

    assert result == [((), {"tool_name": "ls", "args": {"path": "/"}})]


def test_callback_exceptions_are_isolated_and_logged(
    make_plugin: MakePlugin, plugins_root: Path, caplog: pytest.LogCaptureFixture
) -> None:
    make_plugin(
        "kct_raiser",
        "def boom(**kwargs):\n"
        "    raise KeyError('kct-missing-key')\n"
        "def register(ctx):\n"
        "    ctx.register_hook('on_session_end', boom)\n",
    )
    make_plugin("kct_fine", "def register(ctx):\n    ctx.register_hook('on_session_end', str)\n")
    runtime = make_runtime(plugins_root, "kct_raiser", "kct_fine")
    runtime.load()

    with caplog.at_level(logging.WARNING, logger="reference_runtime"):
        result = runtime.invoke_hook("on_session_end")

    assert result == [""]
    warning = next(r for r in caplog.records if "kct-missing-key" in r.getMessage())
    assert warning.levelno == logging.WARNING
    assert "kct_raiser" in warning.getMessage()
    assert "KeyError" in warning.getMessage()


def test_none_results_are_dropped_and_order_kept(
    make_plugin: MakePlugin, plugins_root: Path
) -> None:
    make_plugin(
        "kct_first",
        "def register(ctx):\n"
        "    ctx.register_hook('post_llm_call', lambda **kw: 1)\n"
        "    ctx.register_hook('post_llm_call', lambda **kw: None)\n"
        "    ctx.register_hook('post_llm_call', lambda **kw: 2)\n",
    )
    make_plugin(
        "kct_second",
        "def register(ctx):\n    ctx.register_hook('post_llm_call', lambda **kw: None)\n",
    )
    make_plugin(
        "kct_third",
        "def register(ctx):\n"
        "    ctx.register_hook('post_llm_call', lambda **kw: 3)\n"
        "    ctx.register_hook('post_llm_call', lambda **kw: 0)\n",
    )
    runtime = make_runtime(plugins_root, "kct_third", "kct_second", "kct_first")

    assert runtime.invoke_hook("post_llm_call") == [3, 0, 1, 2]


def test_a_hook_nobody_registered_returns_nothing(
    make_plugin: MakePlugin, plugins_root: Path
) -> None:
    make_plugin("kct_quiet", returning("quiet"))
    runtime = make_runtime(plugins_root, "kct_quiet")

    assert runtime.invoke_hook("on_session_reset", session_id="x") == []
    assert runtime.invoke_hook("kct_nobody_knows_this_hook") == []


ASYNC_PLUGIN = """\
import asyncio

async def slow(**kwargs):
    await asyncio.sleep(0)
    return ("async", kwargs["n"])

def fast(**kwargs):
    return ("sync", kwargs["n"])

async def register(ctx):
    await asyncio.sleep(0)
    ctx.register_hook("transform_llm_output", slow)
    ctx.register_hook("transform_llm_output", fast)
"""


def test_async_callbacks_and_async_register_work(
    make_plugin: MakePlugin, plugins_root: Path
) -> None:
    make_plugin("kct_async", ASYNC_PLUGIN)
    runtime = make_runtime(plugins_root, "kct_async")

    assert runtime.invoke_hook("transform_llm_output", n=1) == [("async", 1), ("sync", 1)]


def test_async_callbacks_work_inside_a_running_event_loop(
    make_plugin: MakePlugin, plugins_root: Path
) -> None:
    make_plugin("kct_async", ASYNC_PLUGIN)
    runtime = make_runtime(plugins_root, "kct_async")

    async def host() -> list[Any]:
        asyncio.get_running_loop()
        return runtime.invoke_hook("transform_llm_output", n=2)

    assert asyncio.run(host()) == [("async", 2), ("sync", 2)]


def test_a_raising_async_callback_is_isolated(
    make_plugin: MakePlugin, plugins_root: Path, caplog: pytest.LogCaptureFixture
) -> None:
    make_plugin(
        "kct_async_boom",
        "async def boom(**kw):\n"
        "    raise RuntimeError('kct async failure')\n"
        "def register(ctx):\n"
        "    ctx.register_hook('on_stream_end', boom)\n"
        "    ctx.register_hook('on_stream_end', lambda **kw: 'after')\n",
    )
    runtime = make_runtime(plugins_root, "kct_async_boom")

    with caplog.at_level(logging.WARNING, logger="reference_runtime"):
        assert runtime.invoke_hook("on_stream_end") == ["after"]
    assert "kct async failure" in caplog.text


def test_dispatch_is_pluggy(make_plugin: MakePlugin, plugins_root: Path) -> None:
    import pluggy

    make_plugin("kct_alpha", returning("alpha"))
    runtime = make_runtime(plugins_root, "kct_alpha")
    runtime.load()

    assert isinstance(runtime.plugin_manager, pluggy.PluginManager)
    assert runtime.plugin_manager.hook.on_session_start.get_hookimpls()


# --- entry points ------------------------------------------------------------------------------

EP_MODULE = """\
REGISTER_CALLS = []

def register(ctx):
    REGISTER_CALLS.append(ctx.name)
    ctx.register_hook("on_session_start", lambda **kwargs: "from entry point " + ctx.name)
"""


@pytest.mark.parametrize("group", ["hermes_agent.plugins", "kora.plugins"])
@pytest.mark.parametrize(
    ("target", "form"), [("kct_epmod", "module"), ("kct_epmod:register", "callable")]
)
def test_entry_point_plugins_load_in_both_forms(
    install_fake_dist: InstallDist, group: str, target: str, form: str, tmp_path: Path
) -> None:
    install_fake_dist(
        "kct-epdist", {group: {"kct_ep": target}}, {"kct_epmod/__init__.py": EP_MODULE}
    )
    runtime = make_runtime((), "kct_ep", groups=[group])

    report = runtime.load()

    assert report.errors == {}, form
    plugin = report.plugin("kct_ep")
    assert plugin is not None
    assert plugin.route == "entry_point"
    assert group in plugin.origin
    assert target in plugin.origin
    assert plugin.version == "0.1"
    assert plugin.module is sys.modules["kct_epmod"]
    assert sys.modules["kct_epmod"].REGISTER_CALLS == ["kct_ep"]
    assert runtime.invoke_hook("on_session_start") == ["from entry point kct_ep"]


EP_OBJECT_MODULE = """\
class _Plugin:
    def __init__(self):
        self.calls = []

    def register(self, ctx):
        self.calls.append(ctx.name)
        ctx.register_hook("on_session_start", lambda **kwargs: "from the plugin object")


PLUGIN = _Plugin()
"""


def test_an_entry_point_naming_an_object_with_register_loads_as_upstream(
    install_fake_dist: InstallDist,
) -> None:
    # Upstream's loader calls getattr(ep.load(), "register"): an object that is neither a module
    # nor callable, but has a register method, is a plugin there.
    install_fake_dist(
        "kct-epobj",
        {"hermes_agent.plugins": {"kct_obj": "kct_epobj:PLUGIN"}},
        {"kct_epobj.py": EP_OBJECT_MODULE},
    )
    runtime = make_runtime((), "kct_obj", groups=["hermes_agent.plugins"])

    report = runtime.load()

    assert report.errors == {}
    plugin = report.plugin("kct_obj")
    assert plugin is not None
    assert plugin.module is sys.modules["kct_epobj"]
    assert sys.modules["kct_epobj"].PLUGIN.calls == ["kct_obj"]
    assert runtime.invoke_hook("on_session_start") == ["from the plugin object"]


def test_entry_point_groups_are_searched_by_default(install_fake_dist: InstallDist) -> None:
    install_fake_dist(
        "kct-epdist",
        {"kora.plugins": {"kct_ep": "kct_epmod:register"}},
        {"kct_epmod/__init__.py": EP_MODULE},
    )

    runtime = Runtime(RuntimeConfig(enabled=("kct_ep",)))

    assert loaded_keys(runtime) == ["kct_ep"]


def test_entry_points_are_ignored_without_groups(install_fake_dist: InstallDist) -> None:
    install_fake_dist(
        "kct-epdist",
        {"hermes_agent.plugins": {"kct_ep": "kct_epmod"}},
        {"kct_epmod/__init__.py": EP_MODULE},
    )
    runtime = make_runtime((), "kct_ep", groups=())

    assert runtime.load().missing == ["kct_ep"]
    assert "kct_epmod" not in sys.modules


BAD_ENTRY_POINTS: dict[str, tuple[str, str, list[str]]] = {
    # case: (entry point target, source of kct_epbad.py, fragments of the error)
    "neither": (
        "kct_epbad:VALUE",
        "VALUE = 42\n",
        ["resolved to int", "neither a module with register(ctx)", "nor the register callable"],
    ),
    "module-without-register": (
        "kct_epbad",
        "VALUE = 42\n",
        ["module 'kct_epbad' has no register(ctx)"],
    ),
    "import-raises": (
        "kct_epbad:register",
        "raise ImportError('kct no deps')\n",
        ["ImportError", "kct no deps"],
    ),
    "missing-attribute": ("kct_epbad:missing", "VALUE = 1\n", ["AttributeError"]),
    "empty-value": ("", "VALUE = 1\n", ["is not 'module' or 'module:attr'", "kct-epbad"]),
    "malformed-value": ("kct_epbad:", "VALUE = 1\n", ["is not 'module' or 'module:attr'"]),
}


@pytest.mark.parametrize("case", list(BAD_ENTRY_POINTS))
def test_unusable_entry_points_give_a_clear_error_and_others_load(
    install_fake_dist: InstallDist, make_plugin: MakePlugin, plugins_root: Path, case: str
) -> None:
    target, source, fragments = BAD_ENTRY_POINTS[case]
    install_fake_dist(
        "kct-epbad", {"hermes_agent.plugins": {"kct_bad": target}}, {"kct_epbad.py": source}
    )
    make_plugin("kct_good", returning("good"))
    runtime = make_runtime(plugins_root, "kct_bad", "kct_good", groups=["hermes_agent.plugins"])

    report = runtime.load()

    message = report.errors["kct_bad"]
    assert "kct_bad" in message
    for fragment in fragments:
        assert fragment in message
    assert loaded_keys(runtime) == ["kct_good"]


def test_entry_point_wins_over_a_directory_of_the_same_name_and_loads_once(
    install_fake_dist: InstallDist,
    make_plugin: MakePlugin,
    plugins_root: Path,
    caplog: pytest.LogCaptureFixture,
) -> None:
    directory = make_plugin("kct_dup", COUNTING + "raise AssertionError('directory copy')\n")
    install_fake_dist(
        "kct-dup", {"hermes_agent.plugins": {"kct_dup": "kct_epmod"}}, {"kct_epmod.py": EP_MODULE}
    )
    runtime = make_runtime(plugins_root, "kct_dup", groups=["hermes_agent.plugins"])

    with caplog.at_level(logging.INFO, logger="reference_runtime"):
        report = runtime.load()

    assert report.errors == {}
    assert [(p.key, p.route) for p in report.loaded] == [("kct_dup", "entry_point")]
    assert sys.modules["kct_epmod"].REGISTER_CALLS == ["kct_dup"]
    assert "hermes_plugins.kct_dup" not in sys.modules
    assert runtime.invoke_hook("on_session_start") == ["from entry point kct_dup"]
    [shadow] = report.shadowed
    assert isinstance(shadow, Shadowing)
    assert shadow.key == "kct_dup"
    assert shadow.shadowed == str(directory)
    assert "hermes_agent.plugins" in shadow.winner
    assert shadow.describe() in caplog.text


def test_a_later_plugins_dir_shadows_an_earlier_one(
    make_plugin: MakePlugin, tmp_path: Path
) -> None:
    first, second = tmp_path / "first", tmp_path / "second"
    make_plugin("kct_dup", returning("first"), root=first)
    make_plugin("kct_dup", returning("second"), root=second)

    runtime = make_runtime([first, second], "kct_dup")
    report = runtime.load()

    assert runtime.invoke_hook("on_session_start") == ["second"]
    assert report.shadowed == [
        Shadowing("kct_dup", winner=str(second / "kct_dup"), shadowed=str(first / "kct_dup"))
    ]


def test_shadowing_follows_root_order_not_names(make_plugin: MakePlugin, tmp_path: Path) -> None:
    first, second = tmp_path / "b_root", tmp_path / "a_root"
    make_plugin("kct_dup", returning("b_root"), root=first)
    make_plugin("kct_dup", returning("a_root"), root=second)

    runtime = make_runtime([first, second], "kct_dup")

    assert runtime.invoke_hook("on_session_start") == ["a_root"]


def test_an_unreadable_search_root_is_skipped(make_plugin: MakePlugin, tmp_path: Path) -> None:
    root = tmp_path / "real"
    make_plugin("kct_alpha", returning("alpha"), root=root)

    runtime = make_runtime([tmp_path / "does-not-exist", root], "kct_alpha")

    assert loaded_keys(runtime) == ["kct_alpha"]


# --- configuration -----------------------------------------------------------------------------


def test_load_config_reads_the_plugins_section(tmp_path: Path, make_plugin: MakePlugin) -> None:
    make_plugin("kct_a", returning("a"), root=tmp_path / "extra")
    make_plugin("kct_b", returning("b"), root=tmp_path / "extra")
    path = tmp_path / "config.yaml"
    path.write_text(
        "other_section: {ignored: true}\n"
        "plugins:\n"
        "  enabled: [kct_b, kct_a, kct_c]\n"
        "  disabled: [kct_c]\n"
        "  dirs: [extra]\n",
        encoding="utf-8",
    )

    config = load_config(path, entry_point_groups=())

    assert config.enabled == ("kct_b", "kct_a", "kct_c")
    assert config.disabled == frozenset({"kct_c"})
    assert config.plugin_dirs == (tmp_path / "extra",)
    assert config.entry_point_groups == ()
    assert config.active == ("kct_b", "kct_a")
    runtime = Runtime(config)
    assert runtime.invoke_hook("on_session_start") == ["b", "a"]
    assert runtime.load().disabled == ["kct_c"]


@pytest.mark.parametrize("text", ["", "plugins:\n", "other: 1\n", "plugins: {}\n"])
def test_an_empty_config_enables_nothing(tmp_path: Path, text: str) -> None:
    path = tmp_path / "config.yaml"
    path.write_text(text, encoding="utf-8")

    config = load_config(path)

    assert (config.enabled, config.disabled, config.plugin_dirs) == ((), frozenset(), ())


def test_load_config_overrides_replace_the_file(tmp_path: Path) -> None:
    path = tmp_path / "config.yaml"
    path.write_text("plugins:\n  enabled: [a, b]\n", encoding="utf-8")

    assert load_config(path, enabled=("c",)).enabled == ("c",)


def test_a_config_that_is_not_yaml_is_a_config_error_naming_the_file(tmp_path: Path) -> None:
    path = tmp_path / "config.yaml"
    path.write_text("plugins:\n  enabled: [marvin, kora\n  disabled: }\n", encoding="utf-8")

    with pytest.raises(ConfigError) as info:
        load_config(path)

    assert str(path) in str(info.value)
    assert "not valid YAML" in str(info.value)
    assert info.value.path == path
    assert isinstance(info.value, KoraError)
    assert isinstance(info.value, ValueError)


def test_a_missing_config_file_is_a_config_error(tmp_path: Path) -> None:
    path = tmp_path / "nope.yaml"

    with pytest.raises(ConfigError, match="cannot read") as info:
        load_config(path)

    assert str(path) in str(info.value)


@pytest.mark.parametrize(
    ("text", "fragment"),
    [
        ("- plugins\n", "must be a mapping with a 'plugins:' section"),
        ("plugins: [marvin, kora]\n", "'plugins' must be a mapping"),
        ("plugins: marvin\n", "'plugins' must be a mapping"),
        ("plugins:\n  enabled: marvin\n", "plugins.enabled must be a list"),
        ("plugins:\n  enabled: [1, 2]\n", "plugins.enabled must be a list"),
        ("plugins:\n  disabled: {marvin: true}\n", "plugins.disabled must be a list"),
        ("plugins:\n  dirs: plugins\n", "plugins.dirs must be a list"),
    ],
)
def test_config_sections_of_the_wrong_shape_are_rejected(
    tmp_path: Path, text: str, fragment: str
) -> None:
    path = tmp_path / "config.yaml"
    path.write_text(text, encoding="utf-8")

    with pytest.raises(ConfigError) as info:
        load_config(path)

    assert fragment in str(info.value)
    assert str(path) in str(info.value)


def test_enabling_a_plugin_twice_is_a_config_error() -> None:
    with pytest.raises(ConfigError, match="kct_a more than once"):
        RuntimeConfig(enabled=("kct_a", "kct_b", "kct_a"))


def test_runtime_config_accepts_comma_separated_names() -> None:
    config = RuntimeConfig(enabled="kct_a, kct_b,,", disabled="kct_b")  # type: ignore[arg-type]

    assert config.enabled == ("kct_a", "kct_b")
    assert config.active == ("kct_a",)


def test_a_plugin_whose_directory_is_gone_is_reported_missing_not_crashed(
    make_plugin: Callable[..., Path], plugins_root: Path
) -> None:
    make_plugin("kct_vanishing", "def register(ctx):\n    pass\n")
    first = Runtime(
        RuntimeConfig(
            enabled=("kct_vanishing",), plugin_dirs=(plugins_root,), entry_point_groups=()
        )
    )
    assert first.load().plugin("kct_vanishing") is not None
    sys.modules.pop("hermes_plugins.kct_vanishing", None)
    shutil.rmtree(plugins_root / "kct_vanishing")

    with pytest.raises(ModuleNotFoundError):
        importlib.import_module("hermes_plugins.kct_vanishing")


# --- the key is the manifest's name ------------------------------------------------------------


def test_a_directory_plugin_is_keyed_by_its_manifest_name(
    make_plugin: MakePlugin, plugins_root: Path
) -> None:
    directory = make_plugin("quill-agent", returning("quill"), manifest="name: kct_quill\n")
    runtime = make_runtime(plugins_root, "kct_quill")

    report = runtime.load()

    assert report.errors == {}
    plugin = report.plugin("kct_quill")
    assert plugin is not None
    assert plugin.origin == str(directory)
    assert plugin.module is sys.modules["hermes_plugins.kct_quill"]
    assert runtime.invoke_hook("on_session_start") == ["quill"]


def test_enabling_a_plugin_by_its_directory_name_says_what_its_manifest_calls_it(
    make_plugin: MakePlugin, plugins_root: Path
) -> None:
    make_plugin("kct-quill-agent", returning("quill"), manifest="name: kct_quill\n")
    runtime = make_runtime(plugins_root, "kct-quill-agent")

    report = runtime.load()

    assert report.missing == ["kct-quill-agent"]
    [warning] = report.warnings
    assert "manifest names it 'kct_quill'" in warning
    assert "enable it as kct_quill" in warning


def test_a_broken_manifest_falls_back_to_the_directory_name_as_key(
    make_plugin: MakePlugin, plugins_root: Path
) -> None:
    make_plugin("kct_broken", returning("x"), manifest="name: [unclosed\n")
    runtime = make_runtime(plugins_root, "kct_broken")

    message = runtime.load().errors["kct_broken"]

    assert "plugin 'kct_broken'" in message
    assert "plugin.yaml" in message


# --- hostile input: one broken thing never stops the others ------------------------------------

HOSTILE_MANIFESTS = [
    "name: kct_h\nreleased: 2024-13-01\n",
    "name: kct_h\nv: " + "9" * 5000 + "\n",
    "name: kct_h\nv: !!int abc\n",
    "name: kct_h\nv: !!int ''\n",
    "name: kct_h\nv: !!timestamp 1\n",
    "name: kct_h\nv: !!bool maybe\n",
    "name: [\n",
    "name: kct_h\nv: &a [*a]\n",
]


@pytest.mark.parametrize("manifest", HOSTILE_MANIFESTS)
@pytest.mark.parametrize("enabled", [True, False], ids=["enabled", "not-enabled"])
def test_a_hostile_manifest_anywhere_is_only_its_plugins_error(
    make_plugin: MakePlugin, plugins_root: Path, manifest: str, enabled: bool
) -> None:
    make_plugin("kct_a_good", returning("good"))
    make_plugin("kct_h", returning("hostile"), manifest=manifest)
    make_plugin("kct_z_good", returning("good2"))
    names = ("kct_a_good", "kct_h", "kct_z_good") if enabled else ("kct_a_good", "kct_z_good")
    runtime = make_runtime(plugins_root, *names)

    report = runtime.load()

    assert loaded_keys(runtime) == ["kct_a_good", "kct_z_good"]
    assert set(report.errors) == ({"kct_h"} if enabled else set())
    if enabled:
        assert "plugin.yaml" in report.errors["kct_h"]


def _deny(monkeypatch: pytest.MonkeyPatch, denied: Path) -> None:
    """Make everything under ``denied`` raise PermissionError (tests may run as root)."""
    real_stat, real_iterdir = Path.stat, Path.iterdir

    def check(path: Path) -> None:
        if path != denied and denied in path.parents:
            raise PermissionError(13, "Permission denied", str(path))

    def stat(self: Path, **kwargs: Any) -> Any:
        check(self)
        return real_stat(self, **kwargs)

    def iterdir(self: Path) -> Any:
        if self == denied:
            raise PermissionError(13, "Permission denied", str(self))
        return real_iterdir(self)

    monkeypatch.setattr(Path, "stat", stat)
    monkeypatch.setattr(Path, "iterdir", iterdir)


def test_an_unreadable_plugin_directory_is_passed_over_with_the_reason(
    make_plugin: MakePlugin, plugins_root: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    make_plugin("kct_good", returning("good"))
    locked = make_plugin("kct_locked", returning("locked"))
    make_plugin("kct_zz_good", returning("good2"))
    _deny(monkeypatch, locked)
    runtime = make_runtime(plugins_root, "kct_good", "kct_locked", "kct_zz_good")

    report = runtime.load()

    assert loaded_keys(runtime) == ["kct_good", "kct_zz_good"]
    assert report.missing == ["kct_locked"]
    assert any("kct_locked" in w and "Permission denied" in w for w in report.warnings)


def test_an_unreadable_manifest_is_that_plugins_error(
    make_plugin: MakePlugin, plugins_root: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    make_plugin("kct_good", returning("good"))
    manifest = make_plugin("kct_secret", returning("x")) / "plugin.yaml"
    real_open = Path.open

    def open_(self: Path, *args: Any, **kwargs: Any) -> Any:
        if self == manifest:
            raise PermissionError(13, "Permission denied", str(self))
        return real_open(self, *args, **kwargs)

    monkeypatch.setattr(Path, "open", open_)
    runtime = make_runtime(plugins_root, "kct_good", "kct_secret")

    report = runtime.load()

    assert loaded_keys(runtime) == ["kct_good"]
    assert "Permission denied" in report.errors["kct_secret"]
    assert "plugin.yaml" in report.errors["kct_secret"]


def _make_passed_over(kind: str, root: Path, make_plugin: MakePlugin) -> str:
    names = {
        "hidden": ".kct_hidden",
        "private": "_kct_private",
        "manifest-is-a-directory": "kct_dirmanifest",
        "no-manifest": "kct_nomanifest",
        "symlink-loop": "kct_loop",
        "dangling-link": "kct_dangling",
        "dangling-manifest": "kct_danglingm",
        "manifest-loop": "kct_loopm",
    }
    name = names[kind]
    directory = root / name
    if kind in {"hidden", "private"}:
        make_plugin(name, returning("x"), manifest=f"name: {name.lstrip('._')}\n")
    elif kind in {"manifest-is-a-directory", "no-manifest"}:
        directory.mkdir()
        (directory / "__init__.py").write_text("def register(ctx): pass\n")
        if kind == "manifest-is-a-directory":
            (directory / "plugin.yaml").mkdir()
    elif kind == "symlink-loop":
        directory.symlink_to(directory)
    elif kind == "dangling-link":
        directory.symlink_to(root / "kct_nowhere")
    else:
        make_plugin(name, returning("x"))
        (directory / "plugin.yaml").unlink()
        target = directory / ("gone.yaml" if kind == "dangling-manifest" else "plugin.yaml")
        (directory / "plugin.yaml").symlink_to(target)
    return name


PASSED_OVER = {
    "hidden": "names starting with '.' or '_' are not scanned",
    "private": "names starting with '.' or '_' are not scanned",
    "manifest-is-a-directory": "plugin.yaml is a directory",
    "no-manifest": "no plugin.yaml or plugin.yml",
    "symlink-loop": "symlink loop",
    "dangling-link": "dangling symlink",
    "dangling-manifest": "plugin.yaml is a dangling symlink",
    "manifest-loop": "plugin.yaml is a symlink loop",
}


@pytest.mark.parametrize("kind", list(PASSED_OVER))
def test_enabled_but_not_found_says_why_a_same_named_candidate_was_passed_over(
    make_plugin: MakePlugin, plugins_root: Path, kind: str
) -> None:
    make_plugin("kct_good", returning("good"))
    name = _make_passed_over(kind, plugins_root, make_plugin)
    runtime = make_runtime(plugins_root, name, "kct_good")

    report = runtime.load()

    assert loaded_keys(runtime) == ["kct_good"]
    assert report.missing == [name]
    [warning] = [w for w in report.warnings if name in w]
    assert "not found" in warning
    assert str(plugins_root / name) in warning
    assert PASSED_OVER[kind] in warning


def _broken_dist(site: Path, name: str, *, entry_points: bytes, metadata: bytes) -> None:
    info = site / f"{name}-1.0.dist-info"
    info.mkdir(parents=True)
    (info / "METADATA").write_bytes(metadata)
    (info / "entry_points.txt").write_bytes(entry_points)


BROKEN_DISTS = {
    # case: (entry_points.txt, METADATA)
    "no-equals": (b"[console_scripts]\nno equals sign here\n", b"Name: kct-broken\nVersion: 1\n"),
    "no-equals-in-plugin-group": (
        b"[hermes_agent.plugins]\nkct_half\n",
        b"Name: kct-broken\nVersion: 1.0\n",
    ),
    "metadata": (b"[console_scripts]\nx = y:z\n", b"Name: kct-broken\nSummary: caf\xe9\n"),
    "plugin-metadata": (
        b"[hermes_agent.plugins]\nkct_x = kct_x\n",
        b"Name: kct-broken\nSummary: caf\xe9\n",
    ),
    "ep-bytes": (b"[hermes_agent.plugins]\nkct_x = \xff\xfe\n", b"Name: kct-broken\n"),
    "all": (b"[hermes_agent.plugins\nkct_x = kct_x\n", b"\xff\xfe"),
}


@pytest.mark.parametrize("case", list(BROKEN_DISTS))
def test_an_installed_distribution_with_broken_metadata_stops_nothing(
    install_fake_dist: InstallDist,
    make_plugin: MakePlugin,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    case: str,
) -> None:
    entry_points, metadata = BROKEN_DISTS[case]
    install_fake_dist(
        "kct-epdist", {"hermes_agent.plugins": {"kct_ep": "kct_epmod"}}, {"kct_epmod.py": EP_MODULE}
    )
    site = tmp_path / "broken-site"
    _broken_dist(site, "kct_broken", entry_points=entry_points, metadata=metadata)
    monkeypatch.syspath_prepend(str(site))
    importlib.invalidate_caches()
    root = make_plugin("kct_good", returning("good")).parent
    runtime = make_runtime(root, "kct_good", "kct_ep", groups=["hermes_agent.plugins"])

    report = runtime.load()

    assert report.errors == {}
    assert loaded_keys(runtime) == ["kct_good", "kct_ep"]


def test_a_bad_entry_point_line_is_a_warning_naming_the_distribution_and_line(
    install_fake_dist: InstallDist, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    site = tmp_path / "broken-site"
    _broken_dist(
        site,
        "kct_broken",
        entry_points=b"[hermes_agent.plugins]\nkct_fine = kct_epmod\nkct_half\n",
        metadata=b"Name: kct-broken\nVersion: 1.0\n",
    )
    (site / "kct_epmod.py").write_text(EP_MODULE, encoding="utf-8")
    monkeypatch.syspath_prepend(str(site))
    importlib.invalidate_caches()
    runtime = make_runtime((), "kct_fine", groups=["hermes_agent.plugins"])

    report = runtime.load()

    assert loaded_keys(runtime) == ["kct_fine"]
    assert any(
        "kct-broken" in w and "entry_points.txt line 3" in w and "kct_half" in w
        for w in report.warnings
    ), report.warnings


# --- BaseException at import or in register --------------------------------------------------

BASE_EXCEPTIONS = {
    "SystemExit": "raise SystemExit(3)",
    "GeneratorExit": "raise GeneratorExit()",
    "custom": "class KctStop(BaseException):\n    pass\nraise KctStop('custom stop')",
    "unprintable": (
        "class KctUgly(Exception):\n"
        "    def __str__(self):\n"
        "        raise RuntimeError('no str for you')\n"
        "raise KctUgly()"
    ),
    "unprintable-base": (
        "class KctUgly(BaseException):\n"
        "    def __str__(self):\n"
        "        raise KctUgly()\n"
        "raise KctUgly()"
    ),
}


def _indented(code: str) -> str:
    return "".join(f"    {line}\n" for line in code.splitlines())


@pytest.mark.parametrize("where", ["import", "register"])
@pytest.mark.parametrize("case", list(BASE_EXCEPTIONS))
def test_a_base_exception_from_a_plugin_is_that_plugins_failure(
    make_plugin: MakePlugin, plugins_root: Path, case: str, where: str
) -> None:
    code = BASE_EXCEPTIONS[case]
    if where == "import":
        body = code + "\n"
    else:
        body = "def register(ctx):\n    ctx.register_hook('on_session_start', lambda **kw: 'x')\n"
        body += _indented(code)
    make_plugin("kct_a_good", returning("good"))
    make_plugin("kct_bad", body)
    make_plugin("kct_z_good", returning("good2"))
    runtime = make_runtime(plugins_root, "kct_a_good", "kct_bad", "kct_z_good")

    report = runtime.load()

    assert loaded_keys(runtime) == ["kct_a_good", "kct_z_good"]
    assert "kct_bad" in report.errors["kct_bad"]
    assert runtime.invoke_hook("on_session_start") == ["good", "good2"]


@pytest.mark.parametrize("where", ["import", "register"])
def test_keyboard_interrupt_is_recorded_rolled_back_then_re_raised(
    make_plugin: MakePlugin, plugins_root: Path, where: str
) -> None:
    raising = "raise KeyboardInterrupt\n"
    if where == "import":
        body = raising
    else:
        body = "def register(ctx):\n    ctx.register_hook('on_session_start', lambda **kw: 'x')\n"
        body += "    " + raising
    make_plugin("kct_a_good", returning("good"))
    make_plugin("kct_ctrl_c", body)
    make_plugin("kct_z_after", returning("after"))
    runtime = make_runtime(plugins_root, "kct_a_good", "kct_ctrl_c", "kct_z_after")

    with pytest.raises(KeyboardInterrupt):
        runtime.load()

    report = runtime.load()  # the report was recorded before re-raising
    assert loaded_keys(runtime) == ["kct_a_good"]
    assert "KeyboardInterrupt" in report.errors["kct_ctrl_c"]
    assert any("interrupted" in w and "kct_z_after" in w for w in report.warnings)
    assert runtime.invoke_hook("on_session_start") == ["good"]
    assert runtime.context("kct_ctrl_c") is None


# --- register has a configurable time limit ----------------------------------------------------

BLOCKING = """\
from kct_stuck_state import LATE, RELEASE

def register(ctx):
    RELEASE.wait(30)
    ctx.register_hook("on_session_start", lambda **kwargs: "late")
    LATE.append(ctx.name)
"""


def test_a_register_that_blocks_past_register_timeout_is_that_plugins_failure(
    make_plugin: MakePlugin, plugins_root: Path
) -> None:
    state = types.ModuleType("kct_stuck_state")
    state.RELEASE = threading.Event()  # type: ignore[attr-defined]
    state.LATE = []  # type: ignore[attr-defined]
    sys.modules["kct_stuck_state"] = state
    make_plugin("kct_a_good", returning("good"))
    make_plugin("kct_stuck", BLOCKING)
    make_plugin("kct_z_good", returning("good2"))
    runtime = Runtime(
        RuntimeConfig(
            enabled=("kct_a_good", "kct_stuck", "kct_z_good"),
            plugin_dirs=(plugins_root,),
            entry_point_groups=(),
            register_timeout=0.2,
        )
    )

    try:
        report = runtime.load()
        message = report.errors["kct_stuck"]
        assert "did not return within 0.2 s" in message
        assert "register_timeout" in message
        assert loaded_keys(runtime) == ["kct_a_good", "kct_z_good"]
    finally:
        state.RELEASE.set()  # type: ignore[attr-defined]
    # The stuck thread finishing later changes nothing in the runtime.
    for _ in range(500):
        if state.LATE:  # type: ignore[attr-defined]
            break
        threading.Event().wait(0.01)
    assert state.LATE == ["kct_stuck"]  # type: ignore[attr-defined]
    assert runtime.invoke_hook("on_session_start") == ["good", "good2"]


def test_register_runs_in_the_calling_thread_without_a_timeout(
    make_plugin: MakePlugin, plugins_root: Path
) -> None:
    make_plugin(
        "kct_where",
        "import threading\nTHREADS = []\n"
        "def register(ctx):\n    THREADS.append(threading.current_thread())\n",
    )
    runtime = make_runtime(plugins_root, "kct_where")

    runtime.load()

    threads = sys.modules["hermes_plugins.kct_where"].THREADS
    assert threads == [threading.current_thread()]


@pytest.mark.parametrize("value", [0, -1, float("nan"), float("inf"), True, "5"])
def test_register_timeout_must_be_a_positive_number(value: object) -> None:
    with pytest.raises(ConfigError, match="register_timeout"):
        RuntimeConfig(register_timeout=value)  # type: ignore[arg-type]


def test_load_config_reads_register_timeout(tmp_path: Path) -> None:
    path = tmp_path / "config.yaml"
    path.write_text("plugins:\n  enabled: [a]\n  register_timeout: 2.5\n", encoding="utf-8")

    assert load_config(path).register_timeout == 2.5


# --- a failed plugin leaves nothing in the process defaults ------------------------------------

IMPORT_TIME_THEN_FAIL = """\
from reference_runtime import BackgroundDaemonEntry, background_daemon_registry, listener_registry

async def start(coordinator=None):
    pass

async def stop():
    pass

def factory():
    return start, stop

background_daemon_registry().register(BackgroundDaemonEntry("kct.stale", start, stop))
listener_registry().register("kct_stale", factory)
"""


@pytest.mark.parametrize("where", ["import", "register"])
def test_a_failed_plugins_import_time_registrations_are_removed_and_not_adopted(
    make_plugin: MakePlugin, plugins_root: Path, where: str
) -> None:
    failing = (
        "raise RuntimeError('after registering')\n"
        if where == "import"
        else "def register(ctx):\n    raise RuntimeError('after registering')\n"
    )
    make_plugin("kct_stale", IMPORT_TIME_THEN_FAIL + failing)
    with compat.isolated_defaults():
        background_daemon_registry().register(BackgroundDaemonEntry("kct.other", _start, _stop))
        first = make_runtime(plugins_root, "kct_stale")
        assert "after registering" in first.load().errors["kct_stale"]

        assert [e.name for e in background_daemon_registry().list_entries()] == ["kct.other"]
        assert listener_registry().names() == []
        assert "hermes_plugins.kct_stale" not in sys.modules
        # A fixed copy loads afresh: its import runs again and only its own entries are adopted.
        make_plugin("kct_stale", IMPORT_TIME_THEN_FAIL + "def register(ctx):\n    pass\n")
        second = make_runtime(plugins_root, "kct_stale")
        assert second.load().errors == {}
        assert [e.name for e in second.daemons.list_entries()] == ["kct.stale"]
        assert second.listeners.names() == ["kct_stale"]


async def _start(coordinator: object = None) -> None:
    pass


async def _stop() -> None:
    pass


# --- the identity command ----------------------------------------------------------------------


def test_the_identity_command_reports_a_hostile_manifest_without_a_traceback(
    make_plugin: MakePlugin,
    plugins_root: Path,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    make_plugin("kct_h", returning("x"), manifest="name: kct_h\nv: !!int ''\n")
    make_plugin("kct_other", returning("x"), manifest="name: kct_other\nv: !!bool maybe\n")
    prompt = tmp_path / "prompt.md"
    prompt.write_text("You are the fallback.", encoding="utf-8")
    argv = ["identity", "--plugins-dir", str(plugins_root), "--enable", "kct_h"]

    status = cli_main([*argv, "--system-prompt-path", str(prompt)])

    out = capsys.readouterr()
    assert status == 0
    assert "Traceback" not in out.out + out.err
    assert "load error: kct_h:" in out.out
    assert "IndexError" in out.out


def test_two_directories_with_one_manifest_name_load_once_the_later_shadowing(
    make_plugin: MakePlugin, plugins_root: Path
) -> None:
    first = make_plugin("kct-a-copy", returning("a"), manifest="name: kct_same\n")
    second = make_plugin("kct-b-copy", returning("b"), manifest="name: kct_same\n")
    runtime = make_runtime(plugins_root, "kct_same")

    report = runtime.load()

    assert runtime.invoke_hook("on_session_start") == ["b"]
    assert report.shadowed == [Shadowing("kct_same", winner=str(second), shadowed=str(first))]


@pytest.mark.parametrize("case", ["SystemExit", "GeneratorExit", "custom", "unprintable-base"])
def test_a_provider_raising_a_base_exception_is_skipped_like_any_other(
    make_plugin: MakePlugin, plugins_root: Path, case: str
) -> None:
    raiser = BASE_EXCEPTIONS[case]
    make_plugin(
        "kct_a_raises",
        "def provider(**kwargs):\n"
        + _indented(raiser)
        + ("def register(ctx):\n    ctx.register_identity_provider(provider)\n"),
    )
    make_plugin(
        "kct_b_claims",
        "from reference_runtime import IdentitySpec\n"
        "def register(ctx):\n"
        "    ctx.register_identity_provider(lambda **kw: IdentitySpec('', 'claimed'))\n",
    )
    runtime = make_runtime(plugins_root, "kct_a_raises", "kct_b_claims")

    resolved = runtime.resolve_identity()

    assert (resolved.plugin, resolved.spec.system_prompt_content) == ("kct_b_claims", "claimed")


def test_a_wrong_register_call_is_reported_at_the_plugins_line_with_its_fix(
    make_plugin, plugins_root: Path
) -> None:
    directory = make_plugin(
        "miscall",
        "def register(ctx):\n    x = 1\n    ctx.register_hook('on_session_start')\n",
    )
    report = Runtime(RuntimeConfig(enabled=("miscall",), plugin_dirs=(plugins_root,))).load()
    error = report.errors["miscall"]
    assert f"at {directory / '__init__.py'}:3" in error
    assert "to fix: call it as ctx.register_hook(hook_name, callback" in error


def test_a_rule_broken_inside_the_context_is_reported_at_the_plugins_line(
    make_plugin, plugins_root: Path
) -> None:
    directory = make_plugin(
        "badprovider",
        "def register(ctx):\n    ctx.register_identity_provider('not callable')\n",
    )
    report = Runtime(RuntimeConfig(enabled=("badprovider",), plugin_dirs=(plugins_root,))).load()
    error = report.errors["badprovider"]
    assert f"at {directory / '__init__.py'}:2" in error
    assert "reference_runtime" not in error.split(" at ")[-1].split(";")[0]
    assert "to fix: correct the ctx.register_identity_provider(...) call" in error


def test_a_missing_dependency_says_how_to_fix_it(make_plugin, plugins_root: Path) -> None:
    make_plugin("needsdep", "import kct_not_installed_anywhere\n\ndef register(ctx):\n    pass\n")
    report = Runtime(RuntimeConfig(enabled=("needsdep",), plugin_dirs=(plugins_root,))).load()
    assert "to fix: make 'kct_not_installed_anywhere' importable" in report.errors["needsdep"]


RAISING_HOOK = (
    "def register(ctx):\n"
    "    def hook(**kw):\n"
    "        raise {raised}\n"
    "    ctx.register_hook('on_session_start', hook)\n"
)


@pytest.mark.parametrize(
    "raised", ["SystemExit(5)", "GeneratorExit()", "type('Odd', (BaseException,), {})()"]
)
def test_a_hook_raising_a_base_exception_is_isolated(
    make_plugin, plugins_root: Path, raised: str
) -> None:
    make_plugin(
        "quitter",
        RAISING_HOOK.format(raised=raised),
        manifest={"name": "quitter", "hooks": ["on_session_start"]},
    )
    make_plugin(
        "steady",
        "def register(ctx):\n    ctx.register_hook('on_session_start', lambda **kw: 'steady')\n",
        manifest={"name": "steady", "hooks": ["on_session_start"]},
    )
    runtime = Runtime(RuntimeConfig(enabled=("quitter", "steady"), plugin_dirs=(plugins_root,)))
    assert runtime.invoke_hook("on_session_start") == ["steady"]


def test_a_hook_raising_keyboard_interrupt_stops_the_call(make_plugin, plugins_root: Path) -> None:
    make_plugin(
        "ctrlc",
        RAISING_HOOK.format(raised="KeyboardInterrupt()"),
        manifest={"name": "ctrlc", "hooks": ["on_session_start"]},
    )
    runtime = Runtime(RuntimeConfig(enabled=("ctrlc",), plugin_dirs=(plugins_root,)))
    with pytest.raises(KeyboardInterrupt):
        runtime.invoke_hook("on_session_start")
