"""The multi-tenant scenarios: the bundled Marvin and Kora plugins, through real discovery.

Each scenario runs with the plugins as bundled directories, as really installed entry points
(a dist-info on a temporary ``sys.path`` entry), and mixed (Kora bundled, Marvin installed, the
usual deployment). Contract 1.3 (precedence in ``plugins.enabled`` order, the Kora switch) and
2.1 (both routes).
"""

from __future__ import annotations

import importlib
import logging
import shutil
from collections.abc import Callable
from pathlib import Path

import pytest

from reference_runtime import IdentityResolutionError, ResolvedIdentity, Runtime, RuntimeConfig

pytestmark = pytest.mark.usefixtures("clean_kora_env", "isolated_imports")

BUNDLED_PLUGINS = Path(__file__).resolve().parents[1] / "plugins"
MARVIN_SRC = BUNDLED_PLUGINS / "marvin" / "src"
MARVIN_PROMPT = (MARVIN_SRC / "marvin" / "data" / "marvin_system_prompt.md").read_text("utf-8")
MARVIN_PERSONA = (MARVIN_SRC / "marvin" / "data" / "MARVIN.md").read_text("utf-8")
KORA_PROMPT = (BUNDLED_PLUGINS / "kora" / "kora_system_prompt.md").read_text("utf-8")
KORA_PERSONA = (BUNDLED_PLUGINS / "kora" / "SOUL.md").read_text("utf-8")

EXPECTED = {
    "marvin": ("Marvin", MARVIN_PERSONA, MARVIN_PROMPT),
    "kora": ("Kora", KORA_PERSONA, KORA_PROMPT),
}

SCENARIOS = [
    (("kora",), "kora"),
    (("marvin",), "marvin"),
    (("marvin", "kora"), "marvin"),
    (("kora", "marvin"), "kora"),
]
SCENARIO_IDS = ["kora-only", "marvin-only", "marvin-then-kora", "kora-then-marvin"]

Route = str
LoadBundled = Callable[..., Runtime]


@pytest.fixture
def install_marvin(install_fake_dist: Callable[..., Path], monkeypatch: pytest.MonkeyPatch) -> None:
    """Marvin as pip installs it: ``hermes_agent.plugins: marvin = marvin:register``."""
    monkeypatch.syspath_prepend(str(MARVIN_SRC))
    install_fake_dist(
        "marvin-runtime",
        {"hermes_agent.plugins": {"marvin": "marvin:register"}},
        version="0.1.0",
    )


@pytest.fixture
def install_kora(install_fake_dist: Callable[..., Path]) -> None:
    """Kora's plugin copied into an installed package, ``kora = kct_kora_identity:register``."""
    site = install_fake_dist(
        "kct-kora-identity",
        {"hermes_agent.plugins": {"kora": "kct_kora_identity:register"}},
    )
    shutil.copytree(
        BUNDLED_PLUGINS / "kora",
        site / "kct_kora_identity",
        ignore=shutil.ignore_patterns("__pycache__"),
    )
    importlib.invalidate_caches()


@pytest.fixture
def load_bundled(request: pytest.FixtureRequest) -> LoadBundled:
    """``load_bundled(route, *enabled, **config)``: a runtime over the bundled plugins.

    ``route`` is ``"directory"`` (both from ``plugins/``, no entry points), ``"entry_point"``
    (both installed, no plugin dirs) or ``"mixed"`` (Kora from ``plugins/``, Marvin installed).
    """

    def load(route: Route, *enabled: str, **config: object) -> Runtime:
        if route == "directory":
            dirs: tuple[Path, ...] = (BUNDLED_PLUGINS,)
            groups: tuple[str, ...] = ()
        else:
            request.getfixturevalue("install_marvin")
            groups = ("hermes_agent.plugins", "kora.plugins")
            if route == "entry_point":
                request.getfixturevalue("install_kora")
                dirs = ()
            else:
                kora_only = Path(str(request.getfixturevalue("tmp_path"))) / "bundled"
                shutil.copytree(
                    BUNDLED_PLUGINS / "kora",
                    kora_only / "kora",
                    ignore=shutil.ignore_patterns("__pycache__"),
                )
                dirs = (kora_only,)
        runtime = Runtime(
            RuntimeConfig(enabled=enabled, plugin_dirs=dirs, entry_point_groups=groups, **config),  # type: ignore[arg-type]
            install_compat=True,
        )
        report = runtime.load()
        assert report.errors == {}
        assert report.missing == []
        return runtime

    return load


def assert_identity_of(resolved: ResolvedIdentity, plugin: str) -> None:
    agent_name, persona, prompt = EXPECTED[plugin]
    assert resolved.source == "plugin"
    assert resolved.plugin == plugin
    assert resolved.path is None
    assert resolved.spec.identity_metadata["agent_name"] == agent_name
    assert resolved.spec.identity_metadata["plugin_name"] == plugin
    assert resolved.spec.system_prompt_content == prompt
    assert resolved.spec.soul_md_content == persona


@pytest.mark.parametrize("route", ["directory", "entry_point", "mixed"])
@pytest.mark.parametrize(("enabled", "winner"), SCENARIOS, ids=SCENARIO_IDS)
def test_first_enabled_identity_plugin_wins(
    load_bundled: LoadBundled, route: Route, enabled: tuple[str, ...], winner: str
) -> None:
    runtime = load_bundled(route, *enabled)

    assert [p.key for p in runtime.load().loaded] == list(enabled)
    assert_identity_of(runtime.resolve_identity(), winner)


@pytest.mark.parametrize(
    ("route", "expected"),
    [
        ("directory", {"marvin": "directory", "kora": "directory"}),
        ("entry_point", {"marvin": "entry_point", "kora": "entry_point"}),
        ("mixed", {"marvin": "entry_point", "kora": "directory"}),
    ],
)
def test_each_route_really_is_used(
    load_bundled: LoadBundled, route: Route, expected: dict[str, str]
) -> None:
    runtime = load_bundled(route, "marvin", "kora")

    assert {p.key: p.route for p in runtime.load().loaded} == expected


def test_installed_marvin_shadows_the_bundled_copy(
    install_marvin: None, caplog: pytest.LogCaptureFixture
) -> None:
    runtime = Runtime(
        RuntimeConfig(enabled=("marvin", "kora"), plugin_dirs=(BUNDLED_PLUGINS,)),
        install_compat=True,
    )

    with caplog.at_level(logging.INFO, logger="reference_runtime"):
        report = runtime.load()

    assert report.errors == {}
    assert {p.key: p.route for p in report.loaded} == {
        "marvin": "entry_point",
        "kora": "directory",
    }
    [shadow] = report.shadowed
    assert shadow.key == "marvin"
    assert shadow.shadowed == str(BUNDLED_PLUGINS / "marvin")
    assert "marvin:register" in shadow.winner
    assert "shadows" in caplog.text
    assert_identity_of(runtime.resolve_identity(), "marvin")


def test_neither_enabled_uses_the_fallback_file(load_bundled: LoadBundled, tmp_path: Path) -> None:
    fallback = tmp_path / "fallback.md"
    fallback.write_text("the fallback prompt\n", encoding="utf-8")

    resolved = load_bundled("directory", system_prompt_path=fallback).resolve_identity()

    assert (resolved.source, resolved.plugin, resolved.path) == ("file", None, fallback)
    assert resolved.spec.system_prompt_content == "the fallback prompt\n"


def test_disabled_marvin_leaves_kora(load_bundled: LoadBundled) -> None:
    runtime = load_bundled("directory", "marvin", "kora", disabled=frozenset({"marvin"}))

    assert_identity_of(runtime.resolve_identity(), "kora")


# --- the Kora plugin and its environment -------------------------------------------------------


def test_kora_reads_its_prompt_and_persona_from_the_variables(
    load_bundled: LoadBundled, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    prompt, persona = tmp_path / "prompt.md", tmp_path / "soul.md"
    prompt.write_text("custom Kora prompt", encoding="utf-8")
    persona.write_text("custom Kora persona", encoding="utf-8")
    monkeypatch.setenv("KORA_SYSTEM_PROMPT_PATH", str(prompt))
    monkeypatch.setenv("KORA_SOUL_MD_PATH", str(persona))

    resolved = load_bundled("directory", "kora", "marvin").resolve_identity()

    assert resolved.plugin == "kora"
    assert resolved.spec.system_prompt_content == "custom Kora prompt"
    assert resolved.spec.soul_md_content == "custom Kora persona"
    assert resolved.spec.identity_metadata["system_prompt_path"] == str(prompt)
    assert resolved.spec.identity_metadata["soul_md_path"] == str(persona)


def test_kora_reads_the_variables_at_each_resolution(
    load_bundled: LoadBundled, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    runtime = load_bundled("directory", "kora")
    assert runtime.resolve_identity().spec.system_prompt_content == KORA_PROMPT
    prompt = tmp_path / "prompt.md"
    prompt.write_text("changed later", encoding="utf-8")
    monkeypatch.setenv("KORA_SYSTEM_PROMPT_PATH", str(prompt))

    assert runtime.resolve_identity().spec.system_prompt_content == "changed later"


def test_blank_kora_variables_count_as_unset(
    load_bundled: LoadBundled, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("KORA_SYSTEM_PROMPT_PATH", "  ")
    monkeypatch.setenv("KORA_SOUL_MD_PATH", "")

    assert_identity_of(load_bundled("directory", "kora").resolve_identity(), "kora")


def test_a_missing_persona_file_gives_an_empty_persona(
    load_bundled: LoadBundled, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("KORA_SOUL_MD_PATH", str(tmp_path / "no-soul.md"))

    resolved = load_bundled("directory", "kora").resolve_identity()

    assert resolved.plugin == "kora"
    assert resolved.spec.soul_md_content == ""
    assert resolved.spec.system_prompt_content == KORA_PROMPT


@pytest.mark.parametrize("content", [None, "", "  \n\t\n"], ids=["missing", "empty", "blank"])
def test_kora_declines_without_a_usable_prompt(
    load_bundled: LoadBundled, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, content: str | None
) -> None:
    prompt = tmp_path / "kora_prompt.md"
    if content is not None:
        prompt.write_text(content, encoding="utf-8")
    monkeypatch.setenv("KORA_SYSTEM_PROMPT_PATH", str(prompt))
    fallback = tmp_path / "fallback.md"
    fallback.write_text("explicit fallback", encoding="utf-8")

    runtime = load_bundled("directory", "kora", "marvin")
    kora = runtime.load().plugin("kora")
    assert kora is not None
    [provider] = kora.identity_providers
    assert provider(engine=None) is None
    assert_identity_of(runtime.resolve_identity(), "marvin")
    alone = load_bundled("directory", "kora", system_prompt_path=fallback).resolve_identity()
    assert (alone.source, alone.path) == ("file", fallback)


def test_kora_declining_with_the_same_bad_variable_fails_closed(
    load_bundled: LoadBundled, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    missing = tmp_path / "missing_prompt.md"
    monkeypatch.setenv("KORA_SYSTEM_PROMPT_PATH", str(missing))

    with pytest.raises(IdentityResolutionError) as info:
        load_bundled("directory", "kora").resolve_identity()

    assert str(missing) in str(info.value)
    assert "KORA_SYSTEM_PROMPT_PATH" in str(info.value)


@pytest.mark.parametrize("value", ["true", "TRUE", "True", "1", "yes", "YES", "on", "On", " on "])
def test_the_kora_switch_silences_only_kora(
    load_bundled: LoadBundled, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, value: str
) -> None:
    monkeypatch.setenv("KORA_DISABLE_IDENTITY_PROVIDER", value)
    fallback = tmp_path / "fallback.md"
    fallback.write_text("explicit fallback", encoding="utf-8")

    assert_identity_of(load_bundled("directory", "kora", "marvin").resolve_identity(), "marvin")
    alone = load_bundled("directory", "kora", system_prompt_path=fallback).resolve_identity()
    assert (alone.source, alone.path) == ("file", fallback)


@pytest.mark.parametrize("value", ["false", "0", "no", "off", "OFF", "", "  "])
def test_false_kora_switch_values_keep_kora_silently(
    load_bundled: LoadBundled,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
    value: str,
) -> None:
    monkeypatch.setenv("KORA_DISABLE_IDENTITY_PROVIDER", value)
    runtime = load_bundled("directory", "kora", "marvin")

    with caplog.at_level(logging.WARNING):
        assert_identity_of(runtime.resolve_identity(), "kora")
    assert "KORA_DISABLE_IDENTITY_PROVIDER" not in caplog.text


@pytest.mark.parametrize("value", ["maybe", "disable", "2", "y"])
def test_a_bogus_kora_switch_is_warned_and_treated_as_false(
    load_bundled: LoadBundled,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
    value: str,
) -> None:
    monkeypatch.setenv("KORA_DISABLE_IDENTITY_PROVIDER", value)
    runtime = load_bundled("directory", "kora", "marvin")

    with caplog.at_level(logging.WARNING):
        resolved = runtime.resolve_identity()

    assert_identity_of(resolved, "kora")
    warnings = [
        r.getMessage()
        for r in caplog.records
        if r.levelno == logging.WARNING and "KORA_DISABLE_IDENTITY_PROVIDER" in r.getMessage()
    ]
    assert warnings
    assert repr(value) in warnings[0]
