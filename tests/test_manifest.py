"""Contract 2.2: plugin manifests."""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path

import pytest

from reference_runtime import (
    KoraError,
    Manifest,
    ManifestError,
    Runtime,
    RuntimeConfig,
    discover,
    load_manifest,
)
from reference_runtime._manifest import MAX_MANIFEST_BYTES

pytestmark = pytest.mark.usefixtures("clean_kora_env")


def write(tmp_path: Path, text: str, filename: str = "plugin.yaml") -> Path:
    path = tmp_path / filename
    path.write_text(text, encoding="utf-8")
    return path


def test_valid_manifest_keeps_every_core_field(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        "name: good-plugin_1\n"
        "version: 1.2.3\n"
        "description: Does good things.\n"
        "author: Someone\n"
        "hooks: [pre_agent_identity_set]\n",
    )

    manifest = load_manifest(path)

    assert manifest == Manifest(
        name="good-plugin_1",
        version="1.2.3",
        description="Does good things.",
        author="Someone",
        hooks=("pre_agent_identity_set",),
        path=path,
    )
    assert manifest.unknown_keys == ()


def test_minimal_manifest_needs_only_a_name(tmp_path: Path) -> None:
    manifest = load_manifest(write(tmp_path, "name: solo\n"))

    assert (manifest.name, manifest.version, manifest.description) == ("solo", "", "")
    assert manifest.author == ""
    assert manifest.hooks == ()


def test_author_may_be_a_mapping(tmp_path: Path) -> None:
    path = write(tmp_path, "name: x\nauthor:\n  name: Ann\n  email: ann@example.org\n")

    assert load_manifest(path).author == {"name": "Ann", "email": "ann@example.org"}


@pytest.mark.parametrize(
    ("written", "kept"), [("2", "2"), ("'1.10'", "1.10"), ("0.1.0", "0.1.0"), ("10", "10")]
)
def test_integer_and_quoted_versions_are_kept_as_text(
    tmp_path: Path, written: str, kept: str
) -> None:
    assert load_manifest(write(tmp_path, f"name: x\nversion: {written}\n")).version == kept


def test_a_float_version_is_refused_because_yaml_loses_digits(tmp_path: Path) -> None:
    path = write(tmp_path, "name: x\nversion: 1.10\n")
    with pytest.raises(ManifestError, match=r"plugin.yaml:2: 'version' must be a string.*quote it"):
        load_manifest(path)


def test_hooks_and_provides_hooks_are_merged_first_mention_first(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        "name: x\n"
        "hooks: [on_session_start, pre_agent_identity_set]\n"
        "provides_hooks: [pre_agent_identity_set, post_tool_call]\n",
    )

    assert load_manifest(path).hooks == (
        "on_session_start",
        "pre_agent_identity_set",
        "post_tool_call",
    )


def test_upstream_optional_fields_are_kept_and_unknown_keys_reported(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        "name: x\n"
        "requires_env: [SOME_TOKEN]\n"
        "pip_dependencies: [requests]\n"
        "kind: identity\n"
        "flavour: vanilla\n"
        "colour: blue\n",
    )

    manifest = load_manifest(path)

    assert dict(manifest.extra) == {
        "requires_env": ["SOME_TOKEN"],
        "pip_dependencies": ["requests"],
        "kind": "identity",
    }
    assert manifest.unknown_keys == ("flavour", "colour")


def test_manifest_extra_is_read_only(tmp_path: Path) -> None:
    manifest = load_manifest(write(tmp_path, "name: x\ntags: [a]\n"))

    with pytest.raises(TypeError):
        manifest.extra["tags"] = []  # type: ignore[index]


def test_malformed_yaml_names_the_file_and_the_line(tmp_path: Path) -> None:
    path = write(tmp_path, "name: x\nversion: '1.0'\nhooks: [a, b\ndescription: oops\n")

    with pytest.raises(ManifestError) as info:
        load_manifest(path)

    assert info.value.path == path
    assert info.value.line == 4
    assert f"{path}:4" in str(info.value)
    assert "not valid YAML" in str(info.value)


@pytest.mark.parametrize(
    ("text", "rule"),
    [
        ("- name: x\n- version: 1\n", "found a YAML list"),
        ("just a string\n", "found a YAML str"),
        ("", "found an empty file"),
        ("# only a comment\n", "found an empty file"),
    ],
    ids=["list", "scalar", "empty", "comment-only"],
)
def test_a_non_mapping_document_is_rejected(tmp_path: Path, text: str, rule: str) -> None:
    path = write(tmp_path, text)

    with pytest.raises(ManifestError) as info:
        load_manifest(path)

    message = str(info.value)
    assert str(path) in message
    assert "must be a mapping" in message
    assert rule in message


def test_missing_name_is_rejected(tmp_path: Path) -> None:
    path = write(tmp_path, "version: '1.0'\ndescription: nameless\n")

    with pytest.raises(ManifestError, match=r"required field 'name' is missing") as info:
        load_manifest(path)

    assert str(path) in str(info.value)


@pytest.mark.parametrize("name", ["has space", "dots.not.allowed", "slash/y", "", "ünïcode"])
def test_invalid_name_characters_are_rejected_with_the_line(tmp_path: Path, name: str) -> None:
    path = write(tmp_path, f"version: '1'\nname: '{name}'\n")

    with pytest.raises(ManifestError, match="letters, digits") as info:
        load_manifest(path)

    assert info.value.line == 2
    assert f"{path}:2" in str(info.value)


@pytest.mark.parametrize("name", ["42", "true", "[a]", "{a: 1}"])
def test_a_non_string_name_is_rejected(tmp_path: Path, name: str) -> None:
    with pytest.raises(ManifestError, match="'name' must be"):
        load_manifest(write(tmp_path, f"name: {name}\n"))


@pytest.mark.parametrize(
    ("line", "field"),
    [
        ("version: [1, 0]", "version"),
        ("version: true", "version"),
        ("version: {major: 1}", "version"),
        ("description: 3", "description"),
        ("description: [a, b]", "description"),
        ("author: 7", "author"),
        ("author: [a, b]", "author"),
        ("hooks: pre_agent_identity_set", "hooks"),
        ("hooks: [1, 2]", "hooks"),
        ("provides_hooks: {a: b}", "provides_hooks"),
    ],
)
def test_wrong_typed_core_fields_name_the_field_and_line(
    tmp_path: Path, line: str, field: str
) -> None:
    path = write(tmp_path, f"name: x\n{line}\n")

    with pytest.raises(ManifestError) as info:
        load_manifest(path)

    assert f"'{field}' must be" in str(info.value)
    assert info.value.line == 2
    assert f"{path}:2" in str(info.value)


def test_manifest_errors_are_kora_errors_and_value_errors() -> None:
    assert issubclass(ManifestError, KoraError)
    assert issubclass(ManifestError, ValueError)


def test_plugin_yml_is_used_when_there_is_no_plugin_yaml(
    make_plugin: Callable[..., Path], plugins_root: Path
) -> None:
    make_plugin("kct_yml", "def register(ctx):\n    pass\n", manifest_file="plugin.yml")

    found = discover([plugins_root])

    candidate = found.candidates["kct_yml"]
    assert candidate.error is None
    assert candidate.manifest is not None
    assert candidate.manifest.path == plugins_root / "kct_yml" / "plugin.yml"


def test_plugin_yaml_is_preferred_over_plugin_yml(
    make_plugin: Callable[..., Path], plugins_root: Path
) -> None:
    directory = make_plugin("kct_both", "def register(ctx):\n    pass\n")
    (directory / "plugin.yml").write_text("name: [broken\n", encoding="utf-8")

    candidate = discover([plugins_root]).candidates["kct_both"]

    assert candidate.error is None
    assert candidate.manifest is not None
    assert candidate.manifest.path == directory / "plugin.yaml"


def test_unknown_manifest_keys_reach_the_load_report(
    make_plugin: Callable[..., Path], plugins_root: Path
) -> None:
    make_plugin(
        "kct_unknown_keys",
        "def register(ctx):\n    pass\n",
        manifest="name: kct_unknown_keys\nflavour: vanilla\n",
    )
    runtime = Runtime(
        RuntimeConfig(
            enabled=("kct_unknown_keys",), plugin_dirs=(plugins_root,), entry_point_groups=()
        )
    )

    report = runtime.load()

    assert report.plugin("kct_unknown_keys") is not None
    assert any("kct_unknown_keys" in w and "flavour" in w for w in report.warnings)


# --- hostile manifests: every failure is a ManifestError naming the file, never another type ----


@pytest.mark.parametrize(
    ("line", "fragments"),
    [
        ("released: 2024-13-01", ["plugin.yaml:2", "ValueError", "month must be in 1..12"]),
        ("big: " + "9" * 5000, ["plugin.yaml:2", "ValueError"]),
        ("v: !!int abc", ["plugin.yaml:2", "ValueError", "abc"]),
        ("v: !!int ''", ["plugin.yaml:2", "IndexError"]),
        ("v: !!timestamp 1", ["plugin.yaml:2", "AttributeError"]),
        ("v: !!bool maybe", ["plugin.yaml:2", "KeyError"]),
        ("v: !!float x", ["plugin.yaml:2", "ValueError"]),
    ],
    ids=["bad-date", "huge-int", "int-abc", "int-empty", "timestamp-int", "bool-maybe", "float-x"],
)
def test_yaml_constructor_failures_are_manifest_errors_with_the_line(
    tmp_path: Path, line: str, fragments: list[str]
) -> None:
    path = write(tmp_path, f"name: x\n{line}\n")

    with pytest.raises(ManifestError) as info:
        load_manifest(path)

    message = str(info.value)
    assert info.value.line == 2
    for fragment in fragments:
        assert fragment in message
    assert "quote it" in message
    assert len(message) < 1000


def test_an_alias_bomb_is_refused_quickly_with_a_short_message(tmp_path: Path) -> None:
    levels = ["a0: &a0 [x, x, x, x, x, x, x, x, x]"]
    for level in range(1, 8):
        refs = ", ".join([f"*a{level - 1}"] * 9)
        levels.append(f"a{level}: &a{level} [{refs}]")
    path = write(tmp_path, "name: x\n" + "\n".join(levels) + "\n")
    assert path.stat().st_size < 600

    started = time.perf_counter()
    with pytest.raises(ManifestError, match="expands to more than") as info:
        load_manifest(path)

    assert time.perf_counter() - started < 2
    assert len(str(info.value)) < 1000
    assert "alias" in str(info.value)


def test_a_recursive_alias_is_refused(tmp_path: Path) -> None:
    path = write(tmp_path, "name: x\ntags: &t [a, *t]\n")

    with pytest.raises(ManifestError, match="refers to itself") as info:
        load_manifest(path)

    assert info.value.line == 2


def test_a_huge_manifest_is_refused_unparsed(tmp_path: Path) -> None:
    path = write(tmp_path, "name: x\ndescription: '" + "a" * (MAX_MANIFEST_BYTES + 1) + "'\n")

    with pytest.raises(ManifestError, match="larger than"):
        load_manifest(path)


def test_a_non_utf8_manifest_names_the_byte(tmp_path: Path) -> None:
    path = tmp_path / "plugin.yaml"
    path.write_bytes(b"name: x\ndescription: caf\xe9\n")

    with pytest.raises(ManifestError, match="not UTF-8") as info:
        load_manifest(path)

    assert str(path) in str(info.value)


def test_a_wrong_typed_value_is_quoted_briefly_in_the_error(tmp_path: Path) -> None:
    path = write(tmp_path, "name: x\nauthor: [" + ", ".join(["someone"] * 2000) + "]\n")

    with pytest.raises(ManifestError, match="'author' must be") as info:
        load_manifest(path)

    assert len(str(info.value)) < 600


@pytest.mark.parametrize("key", ["name", "version", "hooks"])
def test_a_duplicate_key_is_an_error_naming_the_key_and_both_lines(
    tmp_path: Path, key: str
) -> None:
    value = {"name": "x", "version": "'1'", "hooks": "[]"}[key]
    text = f"name: x\nversion: '1'\nhooks: []\n{key}: {value}\n"
    path = write(tmp_path, text)

    with pytest.raises(ManifestError, match=f"key '{key}' appears more than once") as info:
        load_manifest(path)

    assert info.value.line == 4
    assert "line" in str(info.value)


def test_a_duplicate_key_in_a_nested_mapping_is_an_error(tmp_path: Path) -> None:
    path = write(tmp_path, "name: x\nauthor:\n  name: a\n  name: b\n")

    with pytest.raises(ManifestError, match="key 'name' appears more than once") as info:
        load_manifest(path)

    assert info.value.line == 4


@pytest.mark.parametrize("name", ["bad\\n", "bad\\nworse", "\\nbad", "bad\\t"])
def test_a_name_with_control_characters_is_rejected(tmp_path: Path, name: str) -> None:
    with pytest.raises(ManifestError, match="letters, digits"):
        load_manifest(write(tmp_path, f'name: "{name}"\n'))


@pytest.mark.parametrize("written", ["0x10", "1_000", "+1", "010", ".5", "1.10"])
def test_a_number_yaml_would_rewrite_is_refused_as_a_version(tmp_path: Path, written: str) -> None:
    path = write(tmp_path, f"name: x\nversion: {written}\n")

    with pytest.raises(ManifestError, match="'version' must be a string") as info:
        load_manifest(path)

    assert info.value.line == 2
    assert f'"{written}"' in str(info.value)


@pytest.mark.parametrize(
    "field",
    [
        "kind",
        "requires_env",
        "provides_tools",
        "provides_hooks",
        "manifest_version",
        "license",
        "homepage",
        "label",
        "optional_env",
        "pip_dependencies",
        "platforms",
        "tags",
        "provides_commands",
        "provides_middleware",
    ],
)
def test_every_upstream_field_is_accepted_and_kept(tmp_path: Path, field: str) -> None:
    value = "[]" if field == "provides_hooks" else "[something]"
    manifest = load_manifest(write(tmp_path, f"name: x\n{field}: {value}\n"))

    assert manifest.unknown_keys == ()
    if field != "provides_hooks":
        assert manifest.extra[field] == ["something"]


def test_unknown_keys_are_warnings_in_the_load_report_not_errors(
    make_plugin: Callable[..., Path], plugins_root: Path
) -> None:
    make_plugin(
        "kct_odd",
        "def register(ctx):\n    pass\n",
        manifest="name: kct_odd\nprovides_tools: [t]\nflavour: x\n",
    )
    runtime = Runtime(
        RuntimeConfig(enabled=("kct_odd",), plugin_dirs=(plugins_root,), entry_point_groups=())
    )

    report = runtime.load()

    assert report.errors == {}
    [warning] = [w for w in report.warnings if "kct_odd" in w]
    assert "flavour" in warning
    assert "provides_tools" not in warning


def test_a_duplicate_key_on_one_line_says_so(tmp_path: Path) -> None:
    path = write(tmp_path, "name: x\nauthor: {name: a, name: b}\n")

    with pytest.raises(
        ManifestError, match=r"key 'name' appears more than once \(twice on line 2\)"
    ):
        load_manifest(path)
