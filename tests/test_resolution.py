"""Contract 1.2 and 1.3: the identity hook, the provider wrapper, resolution and the fallback."""

from __future__ import annotations

import contextlib
import json
import logging
import os
import sys
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from reference_runtime import (
    IDENTITY_HOOK,
    IdentityResolutionError,
    IdentitySpec,
    KoraError,
    ReasoningEngine,
    ResolvedIdentity,
    Runtime,
    RuntimeConfig,
)

MakePlugin = Callable[..., Path]

# A provider plugin whose behaviour the test picks through module globals it reads at call time.
RECORDING = """\
from reference_runtime import IdentitySpec

CALLS = []
RESULT = IdentitySpec("persona of {name}", "prompt of {name}", {{"plugin_name": "{name}"}})

def provider(**kwargs):
    CALLS.append(kwargs)
    return RESULT

def register(ctx):
    ctx.register_identity_provider(provider)
"""


def recording(name: str) -> str:
    return RECORDING.format(name=name)


def plugin_module(name: str) -> Any:
    return sys.modules[f"hermes_plugins.{name}"]


def make_runtime(root: Path, *enabled: str, **config: Any) -> Runtime:
    return Runtime(
        RuntimeConfig(enabled=enabled, plugin_dirs=(root,), entry_point_groups=(), **config)
    )


@pytest.fixture
def fallback(tmp_path: Path) -> Path:
    path = tmp_path / "fallback_prompt.md"
    path.write_text("fallback prompt text\n", encoding="utf-8")
    return path


# --- the hook ----------------------------------------------------------------------------------


@pytest.mark.usefixtures("clean_kora_env")
def test_hook_fires_once_per_engine_construction_with_the_engine(
    make_plugin: MakePlugin, plugins_root: Path
) -> None:
    make_plugin("kct_p", recording("kct_p"))
    runtime = make_runtime(plugins_root, "kct_p")

    first = ReasoningEngine(runtime)
    calls = plugin_module("kct_p").CALLS
    assert calls == [{"engine": first}]
    assert first.identity.plugin == "kct_p"

    first.system_blocks  # noqa: B018 - reading the identity must not fire the hook again
    second = ReasoningEngine(runtime)

    assert [call["engine"] for call in calls] == [first, second]


@pytest.mark.usefixtures("clean_kora_env")
def test_extra_context_keywords_reach_providers_and_raw_callbacks(
    make_plugin: MakePlugin, plugins_root: Path
) -> None:
    make_plugin(
        "kct_raw",
        "SEEN = []\n"
        "def raw(**kwargs):\n"
        "    SEEN.append(kwargs)\n"
        "def register(ctx):\n"
        f"    ctx.register_hook({IDENTITY_HOOK!r}, raw)\n",
    )
    make_plugin("kct_p", recording("kct_p"))
    runtime = make_runtime(plugins_root, "kct_raw", "kct_p")
    engine = object()

    resolved = runtime.resolve_identity(engine=engine, session_id="s-1", platform="cli")

    expected = {"engine": engine, "session_id": "s-1", "platform": "cli"}
    raw_seen, provider_seen = plugin_module("kct_raw").SEEN, plugin_module("kct_p").CALLS
    assert raw_seen == [expected]
    assert provider_seen == [expected]
    assert resolved.plugin == "kct_p"


@pytest.mark.usefixtures("clean_kora_env")
def test_a_raw_callback_returning_the_envelope_claims(
    make_plugin: MakePlugin, plugins_root: Path
) -> None:
    make_plugin(
        "kct_raw",
        "from reference_runtime import IdentitySpec\n"
        "SPEC = IdentitySpec('', 'raw prompt')\n"
        "def register(ctx):\n"
        f"    ctx.register_hook({IDENTITY_HOOK!r}, lambda **kw: {{'identity': SPEC}})\n",
    )
    runtime = make_runtime(plugins_root, "kct_raw")

    resolved = runtime.resolve_identity()

    assert resolved.spec is plugin_module("kct_raw").SPEC
    assert resolved.plugin == "kct_raw"


@pytest.mark.usefixtures("clean_kora_env")
@pytest.mark.parametrize(
    "returned", ["'just a string'", "{'identity': 'not a spec'}", "{'spec': SPEC}", "SPEC"]
)
def test_a_raw_callback_returning_a_bad_envelope_is_skipped_with_a_warning(
    make_plugin: MakePlugin,
    plugins_root: Path,
    fallback: Path,
    caplog: pytest.LogCaptureFixture,
    returned: str,
) -> None:
    make_plugin(
        "kct_raw",
        "from reference_runtime import IdentitySpec\n"
        "SPEC = IdentitySpec('', 'raw prompt')\n"
        "def register(ctx):\n"
        f"    ctx.register_hook({IDENTITY_HOOK!r}, lambda **kw: {returned})\n",
    )
    runtime = make_runtime(plugins_root, "kct_raw", system_prompt_path=fallback)

    with caplog.at_level(logging.WARNING, logger="reference_runtime"):
        resolved = runtime.resolve_identity()

    assert resolved.source == "file"
    assert "kct_raw" in caplog.text


# --- the provider wrapper ----------------------------------------------------------------------


def wrapper_of(runtime: Runtime, key: str) -> Callable[..., Any]:
    plugin = runtime.load().plugin(key)
    assert plugin is not None
    [(name, wrapper)] = plugin.hooks
    assert name == IDENTITY_HOOK
    return wrapper


@pytest.mark.usefixtures("clean_kora_env")
def test_wrapper_turns_a_spec_into_the_envelope_with_the_same_object(
    make_plugin: MakePlugin, plugins_root: Path
) -> None:
    make_plugin("kct_p", recording("kct_p"))
    runtime = make_runtime(plugins_root, "kct_p")
    runtime.load()
    spec = plugin_module("kct_p").RESULT

    envelope = wrapper_of(runtime, "kct_p")(engine=None)

    assert envelope == {"identity": spec}
    assert envelope["identity"] is spec
    assert envelope["identity"].identity_metadata is spec.identity_metadata
    [via_hook] = runtime.invoke_hook(IDENTITY_HOOK, engine=None)
    assert via_hook["identity"] is spec


@pytest.mark.usefixtures("clean_kora_env")
def test_wrapper_keeps_none(make_plugin: MakePlugin, plugins_root: Path) -> None:
    make_plugin("kct_p", recording("kct_p"))
    runtime = make_runtime(plugins_root, "kct_p")
    runtime.load()
    plugin_module("kct_p").RESULT = None

    assert wrapper_of(runtime, "kct_p")(engine=None) is None
    assert runtime.invoke_hook(IDENTITY_HOOK, engine=None) == []


BAD_PROVIDERS = {
    "wrong-type-str": ("return 'I am Marvin'", "returned str"),
    "wrong-type-dict": ("return {'identity': IdentitySpec('', 'p')}", "returned dict"),
    "wrong-type-int": ("return 0", "returned int"),
    "raises": ("raise RuntimeError('kct provider exploded')", "raised RuntimeError"),
    "raises-spec-error": ("return IdentitySpec('', '')", "raised IdentitySpecError"),
    "rejects-engine": ("return kwargs['not_there']", "raised KeyError"),
}


@pytest.mark.usefixtures("clean_kora_env")
@pytest.mark.parametrize("case", list(BAD_PROVIDERS))
def test_wrapper_turns_bad_providers_into_none_and_a_warning(
    make_plugin: MakePlugin,
    plugins_root: Path,
    caplog: pytest.LogCaptureFixture,
    case: str,
) -> None:
    statement, fragment = BAD_PROVIDERS[case]
    make_plugin(
        "kct_bad_provider",
        "from reference_runtime import IdentitySpec\n"
        "def bad_provider(**kwargs):\n"
        f"    {statement}\n"
        "def register(ctx):\n"
        "    ctx.register_identity_provider(bad_provider)\n",
    )
    runtime = make_runtime(plugins_root, "kct_bad_provider")
    wrapper = wrapper_of(runtime, "kct_bad_provider")

    with caplog.at_level(logging.WARNING, logger="reference_runtime"):
        assert wrapper(engine=None, extra="x") is None

    [record] = [r for r in caplog.records if r.name == "reference_runtime"]
    assert record.levelno == logging.WARNING
    message = record.getMessage()
    assert "'kct_bad_provider'" in message
    assert "bad_provider" in message
    assert fragment in message


@pytest.mark.usefixtures("clean_kora_env")
@pytest.mark.parametrize("case", list(BAD_PROVIDERS))
def test_bad_providers_are_skipped_and_the_next_valid_one_wins(
    make_plugin: MakePlugin,
    plugins_root: Path,
    caplog: pytest.LogCaptureFixture,
    case: str,
) -> None:
    statement, fragment = BAD_PROVIDERS[case]
    make_plugin(
        "kct_bad_provider",
        "from reference_runtime import IdentitySpec\n"
        "def bad_provider(**kwargs):\n"
        f"    {statement}\n"
        "def register(ctx):\n"
        "    ctx.register_identity_provider(bad_provider)\n",
    )
    make_plugin("kct_good", recording("kct_good"))
    runtime = make_runtime(plugins_root, "kct_bad_provider", "kct_good")

    with caplog.at_level(logging.WARNING, logger="reference_runtime"):
        resolved = runtime.resolve_identity()

    assert resolved.plugin == "kct_good"
    assert any(
        "'kct_bad_provider'" in r.getMessage() and fragment in r.getMessage()
        for r in caplog.records
        if r.levelno == logging.WARNING
    )


@pytest.mark.usefixtures("clean_kora_env")
def test_an_async_provider_can_claim(make_plugin: MakePlugin, plugins_root: Path) -> None:
    make_plugin(
        "kct_async",
        "import asyncio\n"
        "from reference_runtime import IdentitySpec\n"
        "async def provider(**kwargs):\n"
        "    await asyncio.sleep(0)\n"
        "    return IdentitySpec('', 'async prompt')\n"
        "def register(ctx):\n"
        "    ctx.register_identity_provider(provider)\n",
    )

    resolved = make_runtime(plugins_root, "kct_async").resolve_identity()

    assert (resolved.plugin, resolved.spec.system_prompt_content) == ("kct_async", "async prompt")


# --- resolution order --------------------------------------------------------------------------


@pytest.mark.usefixtures("clean_kora_env")
def test_later_providers_are_not_consulted_after_a_claim(
    make_plugin: MakePlugin, plugins_root: Path
) -> None:
    for name in ("kct_a", "kct_b", "kct_c"):
        make_plugin(name, recording(name))
    runtime = make_runtime(plugins_root, "kct_b", "kct_a", "kct_c")
    runtime.load()
    plugin_module("kct_b").RESULT = None

    resolved = runtime.resolve_identity()

    assert resolved.plugin == "kct_a"
    assert resolved.spec.system_prompt_content == "prompt of kct_a"
    assert len(plugin_module("kct_b").CALLS) == 1
    assert len(plugin_module("kct_a").CALLS) == 1
    assert plugin_module("kct_c").CALLS == []


@pytest.mark.usefixtures("clean_kora_env")
def test_within_a_plugin_providers_are_consulted_in_registration_order(
    make_plugin: MakePlugin, plugins_root: Path
) -> None:
    make_plugin(
        "kct_many",
        "from reference_runtime import IdentitySpec\n"
        "CALLED = []\n"
        "def first(**kw):\n"
        "    CALLED.append('first')\n"
        "def second(**kw):\n"
        "    CALLED.append('second')\n"
        "    return IdentitySpec('', 'second prompt')\n"
        "def third(**kw):\n"
        "    CALLED.append('third')\n"
        "    return IdentitySpec('', 'third prompt')\n"
        "def register(ctx):\n"
        "    ctx.register_identity_provider(first)\n"
        "    ctx.register_identity_provider(second)\n"
        "    ctx.register_identity_provider(third)\n",
    )

    resolved = make_runtime(plugins_root, "kct_many").resolve_identity()

    assert resolved.spec.system_prompt_content == "second prompt"
    assert plugin_module("kct_many").CALLED == ["first", "second"]


@pytest.mark.usefixtures("clean_kora_env")
def test_identity_precedence_is_enabled_order_not_discovery_order(
    make_plugin: MakePlugin, plugins_root: Path
) -> None:
    make_plugin("kct_aaa", recording("kct_aaa"))
    make_plugin("kct_zzz", recording("kct_zzz"))

    assert make_runtime(plugins_root, "kct_zzz", "kct_aaa").resolve_identity().plugin == "kct_zzz"


# --- hypothesis: any mix of providers ------------------------------------------------------

BEHAVIOURS = ("none", "raise", "wrong", "valid")

PROPERTY_PLUGIN = """\
from reference_runtime import IdentitySpec

BEHAVIOURS = {behaviours!r}

def make(index, behaviour):
    def provider(**kwargs):
        kwargs["calls"].append(({name!r}, index))
        if behaviour == "raise":
            raise RuntimeError("kct provider failure")
        if behaviour == "wrong":
            return {{"identity": "not a spec"}} if index % 2 else "not a spec"
        if behaviour == "valid":
            return IdentitySpec("", "prompt {name} #" + str(index))
        return None
    return provider

def register(ctx):
    for index, behaviour in enumerate(BEHAVIOURS):
        ctx.register_identity_provider(make(index, behaviour))
"""


@st.composite
def plugin_mixes(draw: st.DrawFn) -> tuple[list[list[str]], list[int]]:
    plugins = draw(
        st.lists(st.lists(st.sampled_from(BEHAVIOURS), min_size=1, max_size=3), max_size=6)
    )
    order = draw(st.permutations(range(len(plugins))))
    return plugins, list(order)


@settings(max_examples=50, deadline=None)
@given(mix=plugin_mixes())
def test_property_first_valid_provider_in_enabled_order_wins(
    plugin_writer: Callable[..., Path],
    preserving_imports: Callable[[], contextlib.AbstractContextManager[None]],
    mix: tuple[list[list[str]], list[int]],
) -> None:
    plugins, order = mix
    names = [f"kct_prop_{i}" for i in range(len(plugins))]
    enabled = [names[i] for i in order]
    expected_calls: list[tuple[str, int]] = []
    winner: tuple[str, int] | None = None
    for name in enabled:
        for index, behaviour in enumerate(plugins[names.index(name)]):
            expected_calls.append((name, index))
            if behaviour == "valid":
                winner = (name, index)
                break
        if winner is not None:
            break

    with tempfile.TemporaryDirectory() as tmp, preserving_imports():
        root = Path(tmp) / "plugins"
        for name, behaviours in zip(names, plugins, strict=True):
            plugin_writer(root, name, PROPERTY_PLUGIN.format(name=name, behaviours=behaviours))
        fallback = Path(tmp) / "fallback.md"
        fallback.write_text("property fallback", encoding="utf-8")
        root.mkdir(exist_ok=True)
        runtime = make_runtime(root, *enabled, system_prompt_path=fallback)
        assert runtime.load().errors == {}
        calls: list[tuple[str, int]] = []

        resolved = runtime.resolve_identity(engine=None, calls=calls)

    assert calls == expected_calls
    if winner is None:
        assert (resolved.source, resolved.plugin, resolved.path) == ("file", None, fallback)
        assert resolved.spec.system_prompt_content == "property fallback"
    else:
        assert (resolved.source, resolved.plugin, resolved.path) == ("plugin", winner[0], None)
        assert resolved.spec.system_prompt_content == f"prompt {winner[0]} #{winner[1]}"


# --- the fallback file -------------------------------------------------------------------------


@pytest.fixture
def prompt_files(tmp_path: Path) -> dict[str, Path]:
    files = {}
    for which in ("argument", "config", "env", "default"):
        path = tmp_path / f"{which}.md"
        path.write_text(f"{which} prompt", encoding="utf-8")
        files[which] = path
    return files


def fallback_runtime(files: dict[str, Path], *, config: bool = False) -> Runtime:
    return Runtime(
        RuntimeConfig(
            entry_point_groups=(),
            system_prompt_path=files["config"] if config else None,
            default_system_prompt_path=files["default"],
        )
    )


@pytest.mark.usefixtures("clean_kora_env")
def test_fallback_argument_beats_the_variable_and_the_default(
    prompt_files: dict[str, Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("KORA_SYSTEM_PROMPT_PATH", str(prompt_files["env"]))

    resolved = fallback_runtime(prompt_files).resolve_identity(
        system_prompt_path=prompt_files["argument"]
    )

    assert (resolved.source, resolved.plugin) == ("file", None)
    assert resolved.path == prompt_files["argument"]
    assert resolved.spec.system_prompt_content == "argument prompt"
    assert resolved.spec.soul_md_content == ""


@pytest.mark.usefixtures("clean_kora_env")
def test_configured_fallback_counts_as_the_argument(
    prompt_files: dict[str, Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("KORA_SYSTEM_PROMPT_PATH", str(prompt_files["env"]))
    runtime = fallback_runtime(prompt_files, config=True)

    assert runtime.resolve_identity().path == prompt_files["config"]
    assert (
        runtime.resolve_identity(system_prompt_path=prompt_files["argument"]).path
        == prompt_files["argument"]
    )


@pytest.mark.usefixtures("clean_kora_env")
def test_fallback_variable_beats_the_default(
    prompt_files: dict[str, Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("KORA_SYSTEM_PROMPT_PATH", str(prompt_files["env"]))

    resolved = fallback_runtime(prompt_files).resolve_identity()

    assert resolved.path == prompt_files["env"]
    assert resolved.spec.system_prompt_content == "env prompt"


@pytest.mark.usefixtures("clean_kora_env")
@pytest.mark.parametrize("value", [None, "", "   "], ids=["unset", "empty", "blank"])
def test_fallback_default_is_used_when_the_variable_is_unset_or_blank(
    prompt_files: dict[str, Path], monkeypatch: pytest.MonkeyPatch, value: str | None
) -> None:
    if value is not None:
        monkeypatch.setenv("KORA_SYSTEM_PROMPT_PATH", value)

    resolved = fallback_runtime(prompt_files).resolve_identity()

    assert resolved.path == prompt_files["default"]
    assert resolved.spec.system_prompt_content == "default prompt"


@pytest.mark.usefixtures("clean_kora_env")
def test_fallback_paths_expand_the_home_directory() -> None:
    home = Path(os.environ["HOME"])
    (home / ".kora").mkdir()
    (home / ".kora" / "kora_system_prompt.md").write_text("home prompt", encoding="utf-8")

    resolved = Runtime(RuntimeConfig(entry_point_groups=())).resolve_identity()

    assert resolved.path == home / ".kora" / "kora_system_prompt.md"
    assert resolved.spec.system_prompt_content == "home prompt"


@pytest.mark.usefixtures("clean_kora_env")
@pytest.mark.parametrize("route", ["argument", "env", "default"])
@pytest.mark.parametrize("content", [None, "", " \n\t"], ids=["missing", "empty", "blank"])
def test_a_missing_or_blank_fallback_is_an_error_naming_path_and_variable(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, route: str, content: str | None
) -> None:
    path = tmp_path / "bad_prompt.md"
    if content is not None:
        path.write_text(content, encoding="utf-8")
    config = RuntimeConfig(
        entry_point_groups=(),
        default_system_prompt_path=path if route == "default" else tmp_path / "unused.md",
    )
    if route == "env":
        monkeypatch.setenv("KORA_SYSTEM_PROMPT_PATH", str(path))
    argument = path if route == "argument" else None

    with pytest.raises(IdentityResolutionError) as info:
        Runtime(config).resolve_identity(system_prompt_path=argument)

    message = str(info.value)
    assert info.value.path == path
    assert str(path) in message
    assert "KORA_SYSTEM_PROMPT_PATH" in message
    assert ("does not exist" if content is None else "is blank") in message
    assert isinstance(info.value, KoraError)


@pytest.mark.usefixtures("clean_kora_env")
def test_a_claim_means_the_fallback_is_never_read(
    make_plugin: MakePlugin, plugins_root: Path, tmp_path: Path
) -> None:
    make_plugin("kct_p", recording("kct_p"))
    runtime = make_runtime(
        plugins_root,
        "kct_p",
        system_prompt_path=tmp_path / "missing.md",
        default_system_prompt_path=tmp_path / "missing-too.md",
    )

    assert runtime.resolve_identity().plugin == "kct_p"


# --- the result --------------------------------------------------------------------------------


def test_resolved_identity_from_a_plugin_describes_itself() -> None:
    spec = IdentitySpec("persona", "prompt", {"agent_name": "Marvin"})
    resolved = ResolvedIdentity(spec, "plugin", plugin="marvin")

    assert resolved.describe() == "identity supplied by plugin 'marvin'"
    assert resolved.as_dict() == {
        "source": "plugin",
        "plugin": "marvin",
        "path": None,
        "identity": {
            "soul_md_content": "persona",
            "system_prompt_content": "prompt",
            "identity_metadata": {"agent_name": "Marvin"},
        },
    }
    assert json.loads(json.dumps(resolved.as_dict())) == resolved.as_dict()


def test_resolved_identity_from_a_file_describes_itself(tmp_path: Path) -> None:
    path = tmp_path / "prompt.md"
    resolved = ResolvedIdentity(IdentitySpec("", "prompt"), "file", path=path)

    assert str(path) in resolved.describe()
    assert "fallback file" in resolved.describe()
    as_dict = resolved.as_dict()
    assert (as_dict["source"], as_dict["plugin"], as_dict["path"]) == ("file", None, str(path))
    json.dumps(as_dict)
