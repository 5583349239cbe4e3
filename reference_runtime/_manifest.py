"""Plugin manifests (``plugin.yaml`` / ``plugin.yml``): parsing and validation.

A manifest that cannot be trusted keeps its plugin from loading with a :class:`ManifestError`
naming the file, the line YAML points at (when it gives one) and the rule. Keys the contract does
not know are kept aside and reported, never fatal.
"""

from __future__ import annotations

import dataclasses
import re
import types
from collections.abc import Mapping
from pathlib import Path
from typing import Any, Final

import yaml

from ._errors import ManifestError

__all__ = ["MANIFEST_FILENAMES", "Manifest", "find_manifest", "load_manifest"]

#: File names tried in a plugin directory, in order.
MANIFEST_FILENAMES: Final = ("plugin.yaml", "plugin.yml")

_NAME_RE: Final = re.compile(r"^[A-Za-z0-9_-]+$")

#: Optional upstream fields: accepted and kept as written, not interpreted here.
_UPSTREAM_FIELDS: Final = frozenset(
    {
        "api_version",
        "capabilities",
        "config_schema",
        "depends",
        "emits",
        "external_dependencies",
        "hermes",
        "homepage",
        "kind",
        "label",
        "license",
        "listens",
        "manifest_version",
        "optional_env",
        "pip_dependencies",
        "platforms",
        "provides_tools",
        "python_dependencies",
        "requires_env",
        "requires_hermes",
        "requires_plugins",
        "tags",
    }
)
_CORE_FIELDS: Final = frozenset(
    {"name", "version", "description", "author", "hooks", "provides_hooks"}
)

# PyYAML's C loader is several times faster; discovery of thousands of plugins notices.
_Loader: Any = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


@dataclasses.dataclass(frozen=True)
class Manifest:
    """A validated plugin manifest.

    :param name: the plugin's name; letters, digits, ``_`` and ``-``.
    :param version: the version, as written (numbers are kept as their text).
    :param description: one line for humans.
    :param author: a name, or a mapping such as ``{name, email, url}``.
    :param hooks: hook names the plugin says it registers (``hooks`` and ``provides_hooks``
        merged, first mention first).
    :param extra: upstream optional fields, kept as parsed.
    :param unknown_keys: keys neither the contract nor upstream define (reported, not fatal).
    :param path: the manifest file, or ``None`` for a manifest synthesised from an entry point.
    """

    name: str
    version: str = ""
    description: str = ""
    author: str | Mapping[str, Any] = ""
    hooks: tuple[str, ...] = ()
    extra: Mapping[str, Any] = dataclasses.field(default_factory=dict)
    unknown_keys: tuple[str, ...] = ()
    path: Path | None = None

    def __post_init__(self) -> None:
        object.__setattr__(self, "extra", types.MappingProxyType(dict(self.extra)))


def find_manifest(directory: Path) -> Path | None:
    """Return the manifest file of a plugin directory, or ``None`` when it has none."""
    for filename in MANIFEST_FILENAMES:
        candidate = directory / filename
        if candidate.is_file():
            return candidate
    return None


def _key_lines(node: yaml.Node) -> dict[str, int]:
    lines: dict[str, int] = {}
    if isinstance(node, yaml.MappingNode):
        for key_node, _ in node.value:
            if isinstance(key_node, yaml.ScalarNode):
                lines[str(key_node.value)] = key_node.start_mark.line + 1
    return lines


def _fail(path: Path, rule: str, line: int | None = None) -> ManifestError:
    where = f"{path}:{line}" if line is not None else str(path)
    return ManifestError(f"{where}: {rule}", path=path, line=line)


def _string_list(value: object, field: str, path: Path, line: int | None) -> tuple[str, ...]:
    if value is None:
        return ()
    if not isinstance(value, list) or not all(isinstance(item, str) for item in value):
        rule = f"'{field}' must be a list of hook names, e.g. {field}: [pre_agent_identity_set]"
        raise _fail(path, rule, line)
    return tuple(value)


def load_manifest(path: Path) -> Manifest:
    """Parse and validate the manifest at ``path``.

    :raises ManifestError: the file is unreadable, not YAML, not a mapping, has no valid ``name``
        or a core field of the wrong type. The message names the file, the line where known, the
        rule and the fix.
    """
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise _fail(path, f"cannot read the manifest ({exc})") from exc
    loader = _Loader(text)
    try:
        node = loader.get_single_node()
        data = loader.construct_document(node) if node is not None else None
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        line = None if mark is None else mark.line + 1
        problem = getattr(exc, "problem", None) or str(exc)
        raise _fail(path, f"not valid YAML ({problem}); fix the syntax", line) from exc
    finally:
        loader.dispose()
    if not isinstance(data, dict):
        found = "an empty file" if data is None else f"a YAML {type(data).__name__}"
        rule = f"the manifest must be a mapping of fields (name: ..., version: ...), found {found}"
        raise _fail(path, rule)
    lines = _key_lines(node)

    name = data.get("name")
    if name is None:
        raise _fail(path, "the required field 'name' is missing; add name: <plugin-name>")
    if not isinstance(name, str) or not _NAME_RE.match(name):
        rule = f"'name' must be letters, digits, '_' or '-', got {name!r}"
        raise _fail(path, rule, lines.get("name"))

    version = data.get("version", "")
    if isinstance(version, bool) or not isinstance(version, (str, int)):
        # A float is refused rather than converted: YAML reads 1.10 as 1.1.
        rule = f"'version' must be a string such as \"0.1.0\" (quote it), got {version!r}"
        raise _fail(path, rule, lines.get("version"))

    description = data.get("description", "")
    if not isinstance(description, str):
        rule = f"'description' must be a string, got {type(description).__name__}"
        raise _fail(path, rule, lines.get("description"))

    author = data.get("author", "")
    if not isinstance(author, (str, dict)):
        rule = f"'author' must be a string or a mapping (name, email, url), got {author!r}"
        raise _fail(path, rule, lines.get("author"))

    hooks: list[str] = []
    for field in ("hooks", "provides_hooks"):
        for hook in _string_list(data.get(field), field, path, lines.get(field)):
            if hook not in hooks:
                hooks.append(hook)

    keys = [str(key) for key in data]
    return Manifest(
        name=name,
        version=str(version),
        description=description,
        author=author,
        hooks=tuple(hooks),
        extra={key: data[key] for key in keys if key in _UPSTREAM_FIELDS},
        unknown_keys=tuple(k for k in keys if k not in _CORE_FIELDS and k not in _UPSTREAM_FIELDS),
        path=path,
    )
