"""The public hypothesis strategies generate what their docstrings promise."""

from __future__ import annotations

import pytest
import yaml
from hypothesis import given, settings
from hypothesis import strategies as st

from kora_conformance import strategies
from kora_conformance.strategies import (
    BEHAVIOURS,
    ProviderMix,
    identity_specs,
    make_provider,
    manifests,
    plugin_names,
    provider_behaviours,
    provider_mixes,
)
from reference_runtime import KNOWN_HOOKS, IdentitySpec, load_manifest


def test_all_is_sorted_and_complete() -> None:
    assert strategies.__all__ == sorted(strategies.__all__)
    assert all(hasattr(strategies, name) for name in strategies.__all__)


@given(identity_specs())
def test_identity_specs_are_valid(spec: IdentitySpec) -> None:
    assert isinstance(spec, IdentitySpec)
    assert spec.system_prompt_content.strip()
    assert all(isinstance(key, str) for key in spec.identity_metadata)
    with pytest.raises(TypeError):
        spec.identity_metadata["x"] = 1  # type: ignore[index]


@given(identity_specs(agent_name="Marvin", plugin_name="marvin"))
def test_identity_specs_carry_the_names_asked_for(spec: IdentitySpec) -> None:
    assert spec.identity_metadata["agent_name"] == "Marvin"
    assert spec.identity_metadata["plugin_name"] == "marvin"


@given(st.data())
def test_manifests_load(tmp_path_factory: pytest.TempPathFactory, data: st.DataObject) -> None:
    manifest = data.draw(manifests())
    path = tmp_path_factory.mktemp("manifest") / "plugin.yaml"
    path.write_text(yaml.safe_dump(manifest), encoding="utf-8")

    loaded = load_manifest(path)

    assert loaded.name == manifest["name"]
    assert set(loaded.hooks) <= KNOWN_HOOKS
    assert not loaded.unknown_keys


@settings(max_examples=20)
@given(manifests(name="fixed_name"))
def test_manifests_use_the_given_name(manifest: dict[str, object]) -> None:
    assert manifest["name"] == "fixed_name"


@given(plugin_names())
def test_plugin_names_are_valid_keys(name: str) -> None:
    assert name
    assert all(c.isascii() and (c.isalnum() or c in "_-") for c in name)


@given(provider_behaviours())
def test_make_provider_behaves_as_named(behaviour: strategies.ProviderBehaviour) -> None:
    provider = make_provider(behaviour, name="companion")
    if behaviour == "raises":
        with pytest.raises(RuntimeError, match="companion"):
            provider(engine=None, future_keyword=1)
        return
    result = provider(engine=None, future_keyword=1)
    expected_type = {"declines": type(None), "wrong_type": str, "claims": IdentitySpec}
    assert isinstance(result, expected_type[behaviour])
    if behaviour == "claims":
        assert result.identity_metadata["plugin_name"] == "companion"
        assert provider(engine=object()) == result


def test_behaviours_are_the_four_kinds() -> None:
    assert BEHAVIOURS == ("declines", "raises", "wrong_type", "claims")


@given(provider_mixes(max_companions=6))
def test_provider_mixes_predict_the_first_claimant(mix: ProviderMix) -> None:
    slots = mix.slots()
    assert len(mix.companions) <= 6
    assert slots.count("target") == 1
    assert slots[mix.target_index] == "target"
    winner = mix.winner_index()
    assert winner <= mix.target_index
    assert slots[winner] in ("target", "claims")
    assert all(slot not in ("target", "claims") for slot in slots[:winner])
    names = [f"c{i}" for i in range(len(mix.companions))]
    enabled = mix.enabled("me", names)
    assert enabled[mix.target_index] == "me"
    assert [n for n in enabled if n != "me"] == names


def test_provider_mix_rejects_bad_positions_and_name_counts() -> None:
    with pytest.raises(ValueError, match="target_index"):
        ProviderMix(("claims",), 2)
    with pytest.raises(ValueError, match="companion names"):
        ProviderMix(("claims",), 0).enabled("me", [])


def test_mix_example() -> None:
    mix = ProviderMix(("raises", "declines", "claims"), 3)
    assert mix.slots() == ("raises", "declines", "claims", "target")
    assert mix.winner_index() == 2


@pytest.mark.parametrize("behaviour", BEHAVIOURS)
def test_provider_qualname_names_the_behaviour(behaviour: strategies.ProviderBehaviour) -> None:
    assert behaviour in make_provider(behaviour, name="x").__qualname__


def test_module_documents_the_daemon_strategies() -> None:
    assert strategies.__doc__ is not None
    for name in ("daemon_names", "periodic_tasks", "daemon_entries"):
        assert f":func:`{name}`" in strategies.__doc__
