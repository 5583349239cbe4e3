"""Contract 1.1: the ``IdentitySpec`` value type."""

from __future__ import annotations

import dataclasses
from collections import OrderedDict
from typing import Any

import pytest

from reference_runtime import IdentitySpec, IdentitySpecError, KoraError


def test_fields_are_named_and_ordered_as_the_contract_says() -> None:
    fields = dataclasses.fields(IdentitySpec)

    assert [f.name for f in fields] == [
        "soul_md_content",
        "system_prompt_content",
        "identity_metadata",
    ]


def test_positional_construction_follows_field_order() -> None:
    spec = IdentitySpec("persona", "prompt", {"agent_name": "A"})

    assert spec.soul_md_content == "persona"
    assert spec.system_prompt_content == "prompt"
    assert dict(spec.identity_metadata) == {"agent_name": "A"}


def test_keyword_construction_equals_positional() -> None:
    by_keyword = IdentitySpec(
        system_prompt_content="prompt",
        identity_metadata={"agent_name": "A"},
        soul_md_content="persona",
    )

    assert by_keyword == IdentitySpec("persona", "prompt", {"agent_name": "A"})


def test_persona_may_be_empty_and_metadata_defaults_to_empty() -> None:
    spec = IdentitySpec("", "prompt")

    assert spec.soul_md_content == ""
    assert dict(spec.identity_metadata) == {}


def test_default_metadata_is_not_shared_between_instances() -> None:
    first = IdentitySpec("", "one")
    second = IdentitySpec("", "two")

    assert first.identity_metadata is not second.identity_metadata


def test_assigning_a_field_fails() -> None:
    spec = IdentitySpec("persona", "prompt")

    with pytest.raises(dataclasses.FrozenInstanceError):
        spec.system_prompt_content = "other"  # type: ignore[misc]


def test_metadata_cannot_be_mutated_through_the_spec() -> None:
    spec = IdentitySpec("", "prompt", {"agent_name": "A"})
    metadata: Any = spec.identity_metadata

    with pytest.raises(TypeError):
        metadata["agent_name"] = "B"
    with pytest.raises(TypeError):
        del metadata["agent_name"]
    assert not hasattr(metadata, "update")
    assert dict(spec.identity_metadata) == {"agent_name": "A"}


def test_metadata_is_copied_from_the_callers_dict() -> None:
    mine = {"agent_name": "A"}
    spec = IdentitySpec("", "prompt", mine)

    mine["agent_name"] = "changed"
    mine["extra"] = 1

    assert dict(spec.identity_metadata) == {"agent_name": "A"}


@pytest.mark.parametrize(
    "metadata",
    [{"agent_name": "A"}, OrderedDict(agent_name="A")],
    ids=["dict", "other-mapping"],
)
def test_plain_dict_and_other_mappings_are_accepted(metadata: Any) -> None:
    spec = IdentitySpec("", "prompt", metadata)

    assert spec.identity_metadata["agent_name"] == "A"


def test_equal_fields_give_equal_specs() -> None:
    assert IdentitySpec("p", "s", {"k": 1}) == IdentitySpec("p", "s", {"k": 1})
    assert IdentitySpec("p", "s", {"k": 1}) != IdentitySpec("p", "s", {"k": 2})


def test_replace_revalidates() -> None:
    spec = IdentitySpec("p", "s", {"k": 1})

    assert dataclasses.replace(spec, system_prompt_content="t").system_prompt_content == "t"
    with pytest.raises(IdentitySpecError):
        dataclasses.replace(spec, system_prompt_content=" ")


@pytest.mark.parametrize(
    ("kwargs", "field", "rule"),
    [
        (
            {"soul_md_content": "", "system_prompt_content": 42},
            "system_prompt_content",
            "must be a str",
        ),
        (
            {"soul_md_content": "", "system_prompt_content": b"bytes"},
            "system_prompt_content",
            "must be a str",
        ),
        (
            {"soul_md_content": "", "system_prompt_content": None},
            "system_prompt_content",
            "must be a str",
        ),
        (
            {"soul_md_content": "", "system_prompt_content": ""},
            "system_prompt_content",
            "must not be blank",
        ),
        (
            {"soul_md_content": "", "system_prompt_content": " \n\t "},
            "system_prompt_content",
            "must not be blank",
        ),
        (
            {"soul_md_content": None, "system_prompt_content": "prompt"},
            "soul_md_content",
            "must be a str",
        ),
        (
            {"soul_md_content": "", "system_prompt_content": "p", "identity_metadata": {1: "x"}},
            "identity_metadata",
            "keys must be str",
        ),
        (
            {"soul_md_content": "", "system_prompt_content": "p", "identity_metadata": [("a", 1)]},
            "identity_metadata",
            "must be a mapping",
        ),
        (
            {"soul_md_content": "", "system_prompt_content": "p", "identity_metadata": None},
            "identity_metadata",
            "must be a mapping",
        ),
    ],
    ids=[
        "int-prompt",
        "bytes-prompt",
        "none-prompt",
        "empty-prompt",
        "blank-prompt",
        "none-persona",
        "int-metadata-key",
        "list-metadata",
        "none-metadata",
    ],
)
def test_bad_construction_names_the_field_and_the_rule(
    kwargs: dict[str, Any], field: str, rule: str
) -> None:
    with pytest.raises(IdentitySpecError) as info:
        IdentitySpec(**kwargs)

    assert info.value.field == field
    assert field in str(info.value)
    assert rule in str(info.value)


def test_blank_prompt_error_says_to_return_none_instead() -> None:
    with pytest.raises(IdentitySpecError, match="return None"):
        IdentitySpec("persona", "   ")


def test_spec_errors_are_kora_errors_and_value_errors() -> None:
    assert issubclass(IdentitySpecError, KoraError)
    assert issubclass(IdentitySpecError, ValueError)
    with pytest.raises(ValueError, match="system_prompt_content"):
        IdentitySpec("", "")
