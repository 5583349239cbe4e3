"""Plugin manifests (``plugin.yaml`` / ``plugin.yml``): parsing and validation.

A manifest that cannot be trusted keeps its plugin from loading with a :class:`ManifestError`
naming the file, the line YAML points at (when it gives one) and the rule. Keys the contract does
not know are kept aside and reported, never fatal.

A manifest is hostile input: it is read only up to :data:`MAX_MANIFEST_BYTES`, refused when its
aliases would expand it past :data:`MAX_MANIFEST_VALUES` values or make it refer to itself, and
every failure of the YAML constructors (which raise ``ValueError``, ``KeyError`` and friends, not
only ``yaml.YAMLError``) becomes a :class:`ManifestError`. Error messages quote values through a
bounded ``repr``, so no value can make a message large or slow to build.
"""

from __future__ import annotations

import dataclasses
import re
import types
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any, Final

import yaml

from ._errors import ManifestError, message_of, quote

__all__ = [
    "KNOWN_MANIFEST_KEYS",
    "MANIFEST_FILENAMES",
    "MAX_MANIFEST_BYTES",
    "MAX_MANIFEST_VALUES",
    "Manifest",
    "find_manifest",
    "load_manifest",
]

#: File names tried in a plugin directory, in order.
MANIFEST_FILENAMES: Final = ("plugin.yaml", "plugin.yml")

#: A manifest is a few fields; anything larger is refused before it is parsed.
MAX_MANIFEST_BYTES: Final = 64 * 1024
#: The most values (scalars, lists, mappings) a manifest may expand to, an alias counting as
#: many values as its anchor holds: nine aliases of nine aliases, seven deep, are 4.8 million.
MAX_MANIFEST_VALUES: Final = 10_000

# fullmatch: with match and "$", "bad\n" would pass ("$" matches before a final newline).
_NAME_RE: Final = re.compile(r"[A-Za-z0-9_-]+")
# Upstream manifests may declare any provides_<what> list (tools, hooks, commands, ...).
_PROVIDES_PREFIX: Final = "provides_"
_MERGE_TAG: Final = "tag:yaml.org,2002:merge"

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
#: Every top-level manifest key the contract or upstream defines (``provides_*`` aside, all
#: of which are upstream's); any other is an unknown key.
KNOWN_MANIFEST_KEYS: Final = _CORE_FIELDS | _UPSTREAM_FIELDS

# PyYAML's C loader is several times faster; discovery of thousands of plugins notices.
_Loader: Any = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


class _NodeError(Exception):
    """A constructor failure, carrying the node it failed on (for the line)."""

    def __init__(self, node: yaml.Node, cause: Exception) -> None:
        super().__init__(str(cause))
        self.node = node
        self.cause = cause


class _ManifestLoader(_Loader):  # type: ignore[misc]
    """The safe loader, attributing every constructor failure to its node."""

    def construct_object(self, node: yaml.Node, deep: bool = False) -> Any:
        try:
            return super().construct_object(node, deep)
        except _NodeError:
            raise
        except yaml.YAMLError:
            raise
        except Exception as exc:
            raise _NodeError(node, exc) from exc


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


def _line(node: yaml.Node) -> int:
    return int(node.start_mark.line) + 1


def _children(node: yaml.Node) -> Iterator[yaml.Node]:
    if isinstance(node, yaml.MappingNode):
        for key, value in node.value:
            yield key
            yield value
    elif isinstance(node, yaml.SequenceNode):
        yield from node.value


def _fail(path: Path, rule: str, line: int | None = None) -> ManifestError:
    where = f"{path}:{line}" if line is not None else str(path)
    return ManifestError(f"{where}: {rule}", path=path, line=line)


def _check_shape(root: yaml.Node, path: Path) -> None:
    """Refuse alias bombs, self-reference and duplicate keys, before anything is constructed.

    Aliases make the node graph a DAG (or, with a self-referring anchor, cyclic): sizes are
    counted once per distinct node, iteratively, so the check is linear in the file however
    far the aliases would expand.
    """
    sizes: dict[int, int] = {}
    on_path: set[int] = set()
    stack: list[tuple[yaml.Node, bool]] = [(root, False)]
    while stack:
        node, finished = stack.pop()
        key = id(node)
        if finished:
            on_path.discard(key)
            total = 1 + sum(sizes[id(child)] for child in _children(node))
            if total > MAX_MANIFEST_VALUES:
                rule = (
                    f"the manifest expands to more than {MAX_MANIFEST_VALUES} values through "
                    "aliases (*name repeats what &name anchors); a manifest is a few fields: "
                    "write the values out instead of aliasing them"
                )
                raise _fail(path, rule, _line(node))
            sizes[key] = total
            continue
        if key in sizes:
            continue
        on_path.add(key)
        stack.append((node, True))
        if isinstance(node, yaml.MappingNode):
            _check_unique_keys(node, path)
        for child in _children(node):
            if id(child) in on_path:
                rule = (
                    "a value refers to itself through an alias (an anchor &name used as *name "
                    "inside its own value); remove the alias"
                )
                raise _fail(path, rule, _line(child))
            if id(child) not in sizes:
                stack.append((child, False))


def _check_unique_keys(node: yaml.MappingNode, path: Path) -> None:
    seen: dict[tuple[str, str], yaml.Node] = {}
    for key_node, _ in node.value:
        if not isinstance(key_node, yaml.ScalarNode) or key_node.tag == _MERGE_TAG:
            continue
        identity = (str(key_node.tag), str(key_node.value))
        first = seen.setdefault(identity, key_node)
        if first is not key_node:
            lines = (
                f"twice on line {_line(key_node)}"
                if _line(first) == _line(key_node)
                else f"line {_line(first)} and line {_line(key_node)}"
            )
            rule = (
                f"key {quote(key_node.value)} appears more than once ({lines}); YAML would "
                "silently keep only the last: remove one"
            )
            raise _fail(path, rule, _line(key_node))


def _top_level_nodes(node: yaml.Node) -> dict[str, yaml.Node]:
    values: dict[str, yaml.Node] = {}
    if isinstance(node, yaml.MappingNode):
        for key_node, value_node in node.value:
            if isinstance(key_node, yaml.ScalarNode):
                values[str(key_node.value)] = value_node
    return values


def _string_list(value: object, field: str, path: Path, line: int | None) -> tuple[str, ...]:
    if value is None:
        return ()
    if not isinstance(value, list) or not all(isinstance(item, str) for item in value):
        rule = (
            f"'{field}' must be a list of hook names, e.g. {field}: [pre_agent_identity_set], "
            f"got {quote(value)}"
        )
        raise _fail(path, rule, line)
    return tuple(value)


def _version(value: object, node: yaml.Node | None, path: Path) -> str:
    """The version as written: a string, or a decimal integer whose text YAML keeps intact.

    A number YAML would rewrite is refused, as a float always is (YAML reads 1.10 as 1.1, 0x10
    as 16, 010 as 8, 1_000 as 1000): quoting it keeps what the author wrote.
    """
    if isinstance(value, str):
        return value
    written = str(node.value) if isinstance(node, yaml.ScalarNode) else None
    if isinstance(value, int) and not isinstance(value, bool) and written == str(value):
        return written
    line = None if node is None else _line(node)
    if written is not None and isinstance(value, (int, float)) and not isinstance(value, bool):
        rule = (
            f"'version' must be a string: YAML reads {quote(written)} as the "
            f'{type(value).__name__} {quote(value)}; quote it: version: "{written}"'
        )
    else:
        rule = f"'version' must be a string such as \"0.1.0\" (quote it), got {quote(value)}"
    raise _fail(path, rule, line)


def _read(path: Path) -> str:
    try:
        with path.open("rb") as stream:
            raw = stream.read(MAX_MANIFEST_BYTES + 1)
    except OSError as exc:
        raise _fail(path, f"cannot read the manifest ({exc})") from exc
    if len(raw) > MAX_MANIFEST_BYTES:
        rule = (
            f"the manifest is larger than {MAX_MANIFEST_BYTES} bytes; a manifest is a few "
            "fields: move data elsewhere"
        )
        raise _fail(path, rule)
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        rule = f"the manifest is not UTF-8 ({exc.reason} at byte {exc.start}); save it as UTF-8"
        raise _fail(path, rule) from exc


def _parse(path: Path, text: str) -> tuple[yaml.Node | None, object]:
    loader = _ManifestLoader(text)
    try:
        node = loader.get_single_node()
        if node is None:
            return None, None
        _check_shape(node, path)
        return node, loader.construct_document(node)
    except ManifestError:
        raise
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        line = None if mark is None else int(mark.line) + 1
        problem = getattr(exc, "problem", None) or str(exc)
        raise _fail(path, f"not valid YAML ({_clip(problem)}); fix the syntax", line) from exc
    except _NodeError as exc:
        node_text = exc.node.value if isinstance(exc.node, yaml.ScalarNode) else None
        shown = f" {quote(node_text)}" if node_text is not None else ""
        rule = (
            f"the value{shown} cannot be read as {_tag_name(exc.node.tag)} "
            f"({type(exc.cause).__name__}: {message_of(exc.cause, 200)}); correct it, or "
            "quote it to keep it as text"
        )
        raise _fail(path, rule, _line(exc.node)) from exc.cause
    except Exception as exc:  # e.g. RecursionError: still only this manifest's error
        rule = f"cannot parse the manifest ({type(exc).__name__}: {message_of(exc, 200)})"
        raise _fail(path, rule) from exc
    finally:
        loader.dispose()


def _tag_name(tag: object) -> str:
    text = str(tag)
    return f"!!{text.removeprefix('tag:yaml.org,2002:')}" if text.startswith("tag:yaml") else text


def _clip(text: str, limit: int = 200) -> str:
    return text if len(text) <= limit else f"{text[: limit - 3]}..."


def load_manifest(path: Path) -> Manifest:
    """Parse and validate the manifest at ``path``.

    :raises ManifestError: the file is unreadable, too large, not UTF-8, not YAML, expands
        through aliases past :data:`MAX_MANIFEST_VALUES` values or into itself, repeats a key,
        holds a value YAML cannot construct (``!!int abc``, ``2024-13-01``), is not a mapping,
        has no valid ``name`` or a core field of the wrong type. The message names the file,
        the line where known, the rule and the fix. No other exception escapes.
    """
    node, data = _parse(path, _read(path))
    if not isinstance(data, dict):
        found = "an empty file" if data is None else f"a YAML {type(data).__name__}"
        rule = f"the manifest must be a mapping of fields (name: ..., version: ...), found {found}"
        raise _fail(path, rule)
    assert node is not None
    nodes = _top_level_nodes(node)

    def line_of(field: str) -> int | None:
        found = nodes.get(field)
        return None if found is None else _line(found)

    name = data.get("name")
    if name is None:
        raise _fail(path, "the required field 'name' is missing; add name: <plugin-name>")
    if not isinstance(name, str) or not _NAME_RE.fullmatch(name):
        rule = f"'name' must be letters, digits, '_' or '-', got {quote(name)}"
        raise _fail(path, rule, line_of("name"))

    version = _version(data.get("version", ""), nodes.get("version"), path)

    description = data.get("description", "")
    if not isinstance(description, str):
        rule = f"'description' must be a string, got {type(description).__name__}"
        raise _fail(path, rule, line_of("description"))

    author = data.get("author", "")
    if not isinstance(author, (str, dict)):
        rule = f"'author' must be a string or a mapping (name, email, url), got {quote(author)}"
        raise _fail(path, rule, line_of("author"))

    hooks: list[str] = []
    for field in ("hooks", "provides_hooks"):
        for hook in _string_list(data.get(field), field, path, line_of(field)):
            if hook not in hooks:
                hooks.append(hook)

    keys = [str(key) for key in data]
    return Manifest(
        name=name,
        version=version,
        description=description,
        author=author,
        hooks=tuple(hooks),
        extra={k: v for k, v in data.items() if isinstance(k, str) and _is_upstream(k)},
        unknown_keys=tuple(k for k in keys if k not in _CORE_FIELDS and not _is_upstream(k)),
        path=path,
    )


def _is_upstream(key: str) -> bool:
    return key not in _CORE_FIELDS and (key in _UPSTREAM_FIELDS or key.startswith(_PROVIDES_PREFIX))
