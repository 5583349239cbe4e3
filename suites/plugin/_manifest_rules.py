"""The manifest rules of KC-PL-013 to KC-PL-017: the raw fields, version clauses, the v2 fields,
and which environment variables a plugin reads.

The reference runtime keeps the manifest's upstream fields as written and interprets few of them;
these rules read the file itself, so every field (``provides_commands`` too) is seen as written.
"""

from __future__ import annotations

import contextlib
import difflib
import os
import re
import sys
from collections.abc import Iterator, Mapping, MutableMapping
from pathlib import Path
from typing import Any, Final
from urllib.parse import urlsplit

import yaml
from packaging.requirements import InvalidRequirement, Requirement
from packaging.specifiers import SpecifierSet
from packaging.version import InvalidVersion, Version

__all__ = [
    "CONFIG_ENTRY_KEYS",
    "CONFIG_TYPES",
    "PLUGIN_ENTRY_KEYS",
    "SUPPORTED_MANIFEST_VERSIONS",
    "V2_FIELDS",
    "EnvironReads",
    "clause_problem",
    "misspelt_keys",
    "raw_manifest",
    "reading_environ",
    "unbounded",
    "v2_problems",
]

#: ``manifest_version`` values the upstream runtime supports.
SUPPORTED_MANIFEST_VERSIONS: Final = (1, 2)
#: The manifest v2 fields KC-PL-016 checks.
V2_FIELDS: Final = (
    "manifest_version",
    "api_version",
    "requires_plugins",
    "python_dependencies",
    "config_schema",
)
#: ``config_schema`` types, and the Python values a default of each may be.
CONFIG_TYPES: Final[Mapping[str, tuple[type, ...]]] = {
    "string": (str,),
    "integer": (int,),
    "number": (int, float),
    "boolean": (bool,),
    "array": (list,),
    "object": (dict,),
}
_CLAUSE: Final = re.compile(r"\s*(>=|<=|==|!=|>|<)\s*(\S+?)\s*")
_UPPER_BOUNDS: Final = ("<", "<=", "==", "~=", "===")
_VCS_SCHEMES: Final = frozenset({"git", "hg", "svn", "bzr"})
#: The keys of a ``requires_plugins`` entry and of a ``config_schema`` entry the host reads.
PLUGIN_ENTRY_KEYS: Final = ("id", "version_range")
CONFIG_ENTRY_KEYS: Final = ("type", "default", "description", "required")


def raw_manifest(path: Path) -> dict[str, Any]:
    """The manifest's fields as written (``{}`` when the file is not a YAML mapping: KC-PL-002
    reports that)."""
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, yaml.YAMLError):
        return {}
    return data if isinstance(data, dict) else {}


def clause_problem(text: object, field: str) -> str | None:
    """What is wrong with a version range such as ``">=0.19,<0.30"``, or ``None``.

    Clauses are comma-separated, each an operator (``>=``, ``>``, ``<=``, ``<``, ``==``,
    ``!=``) and a version; together they must admit some version.
    """
    if not isinstance(text, str) or not text.strip():
        return f"{field} is {text!r}, not a string of version clauses (quote it in YAML)"
    versions = []
    for clause in text.split(","):
        match = _CLAUSE.fullmatch(clause)
        if match is None:
            return f"{field} clause {clause.strip()!r} is not an operator and a version"
        try:
            versions.append(Version(match.group(2)))
        except InvalidVersion:
            return f"{field} clause {clause.strip()!r} has no valid version"
    specifiers = SpecifierSet(text.replace(" ", ""))
    if not any(specifiers.contains(v, prereleases=True) for v in _candidates(versions)):
        return f"{field} {text!r} admits no version: its clauses do not overlap"
    return None


def _candidates(versions: list[Version]) -> Iterator[Version]:
    """Versions that probe every gap between the bounds: each bound, one just above it (one more
    release segment), one below the lowest, and a very high one."""
    yield Version("0")
    yield Version("999999")
    for version in versions:
        yield version
        release = ".".join(str(part) for part in version.release)
        yield Version(f"{release}.0.0.0.0.1")
        yield Version(f"{release}.dev0")


def unbounded(requirement: Requirement) -> bool:
    """Whether ``requirement`` has no upper bound.

    A direct reference to a file (an archive or a wheel) is pinned; one to a version control
    repository is pinned only when it names a revision (``git+https://host/repo.git@v1.2``):
    without one it installs whatever the default branch holds that day.
    """
    if requirement.url:
        parts = urlsplit(requirement.url)
        if parts.scheme.partition("+")[0] in _VCS_SCHEMES:
            return "@" not in parts.path
        return False
    return not any(spec.operator in _UPPER_BOUNDS for spec in requirement.specifier)


def v2_problems(manifest: Mapping[str, Any]) -> list[str]:
    """Every breach of the manifest v2 field rules, one sentence each."""
    problems: list[str] = []
    version = manifest.get("manifest_version")
    if version is not None and (
        isinstance(version, bool) or version not in SUPPORTED_MANIFEST_VERSIONS
    ):
        problems.append(f"manifest_version is {version!r}, not 1 or 2 (supported by the host)")
    api = manifest.get("api_version")
    if api is not None and (isinstance(api, bool) or not isinstance(api, int) or api < 1):
        problems.append(f"api_version is {api!r}, not an integer >= 1")
    problems += _requires_plugins(manifest.get("requires_plugins"))
    problems += _python_dependencies(manifest.get("python_dependencies"))
    problems += _config_schema(manifest.get("config_schema"))
    return problems


def _requires_plugins(value: object) -> list[str]:
    if value is None or isinstance(value, str):
        return [] if value is None or value.strip() else ["requires_plugins is an empty string"]
    if not isinstance(value, list):
        return [f"requires_plugins is a {type(value).__name__}, not a list of plugin IDs"]
    problems = []
    for item in value:
        if isinstance(item, str) and item:
            continue
        if not isinstance(item, dict) or not isinstance(item.get("id"), str) or not item["id"]:
            shown = f"requires_plugins entry {item!r}"
            problems.append(f"{shown} is neither an ID nor {{id, version_range}}")
            continue
        if "version_range" in item:
            problem = clause_problem(item["version_range"], f"requires_plugins[{item['id']}]")
            if problem is not None:
                problems.append(problem)
        problems += misspelt_keys(item, PLUGIN_ENTRY_KEYS, f"requires_plugins[{item['id']}]")
    return problems


def misspelt_keys(entry: Mapping[Any, Any], known: tuple[str, ...], where: str) -> list[str]:
    """A sentence for each key of ``entry`` that is not one of ``known`` but close to one (a
    misspelling the host ignores, silently dropping what it holds). Keys unlike any known one
    are left alone: the host may read more than the kit knows of."""
    problems = []
    for key in entry:
        if not isinstance(key, str) or key in known:
            continue
        close = difflib.get_close_matches(key, known, n=1, cutoff=0.6)
        if close:
            problems.append(
                f"{where} has {key!r}, which the host ignores: did you mean {close[0]!r}?"
            )
    return problems


def requirements(value: object) -> tuple[list[Requirement], list[str]]:
    """``python_dependencies`` parsed: the requirements, and a sentence per bad entry."""
    if value is None:
        return [], []
    if not isinstance(value, list):
        return [], [f"python_dependencies is a {type(value).__name__}, not a list"]
    parsed, problems = [], []
    for item in value:
        try:
            parsed.append(Requirement(item) if isinstance(item, str) else None)
        except InvalidRequirement as exc:
            problems.append(f"python_dependencies entry {item!r} is not PEP 508: {exc}")
            continue
        if not isinstance(item, str):
            problems.append(f"python_dependencies entry {item!r} is not a requirement string")
    return [r for r in parsed if r is not None], problems


def _python_dependencies(value: object) -> list[str]:
    return requirements(value)[1]


def _config_schema(value: object) -> list[str]:
    if value is None:
        return []
    if not isinstance(value, dict):
        return [f"config_schema is a {type(value).__name__}, not a mapping of keys"]
    problems = []
    for key, spec in value.items():
        where = f"config_schema.{key}"
        if not isinstance(spec, dict):
            problems.append(f"{where} is {spec!r}, not a mapping {{type, default, ...}}")
            continue
        kind = spec.get("type")
        if kind is not None and kind not in CONFIG_TYPES:
            problems.append(f"{where}.type is {kind!r}, not one of {', '.join(CONFIG_TYPES)}")
        elif kind is not None and "default" in spec and spec["default"] is not None:
            default = spec["default"]
            wrong_bool = isinstance(default, bool) and kind in {"integer", "number"}
            if wrong_bool or not isinstance(default, CONFIG_TYPES[kind]):
                problems.append(f"{where}.default is {default!r}, not of type {kind}")
        if "required" in spec and not isinstance(spec["required"], bool):
            problems.append(f"{where}.required is {spec['required']!r}, not true or false")
        if "description" in spec and not isinstance(spec["description"], str):
            problems.append(f"{where}.description is not a string")
        problems += misspelt_keys(spec, CONFIG_ENTRY_KEYS, where)
    return problems


class EnvironReads(set[str]):
    """The names looked up in ``os.environ`` (any way), and :attr:`needed`: the names read with
    ``os.environ[name]`` while unset, so that the read raised ``KeyError`` (a variable the code
    cannot do without), each with the file and line of the code that read it."""

    def __init__(self) -> None:
        super().__init__()
        self.needed: dict[str, tuple[str, int]] = {}


#: Modules whose calls of the mapping are not a subscript by the code: ``Mapping.get``,
#: ``os.getenv`` and this module's own.
_MACHINERY: Final = frozenset({"os", "_collections_abc", "collections.abc", "contextlib", __name__})


def _subscripted_by() -> tuple[str, int] | None:
    """The file and line that subscripted the mapping, or ``None`` when the lookup came through
    ``.get()`` or ``os.getenv()`` (which catch the ``KeyError``)."""
    caller = sys._getframe(2)  # 0: here, 1: __getitem__, 2: whoever looked the name up
    if caller.f_globals.get("__name__") in _MACHINERY:
        return None
    return caller.f_code.co_filename, caller.f_lineno


class _ReadingEnviron(MutableMapping[str, str]):
    """``os.environ`` that remembers which names were looked up."""

    def __init__(self, environ: MutableMapping[str, str]) -> None:
        self._environ = environ
        self.read = EnvironReads()

    def __getitem__(self, key: str) -> str:
        self.read.add(key)
        try:
            return self._environ[key]
        except KeyError:
            # .get() and os.getenv() reach here too, through Mapping.get, and catch it: only
            # a subscript by the code itself is a need.
            where = _subscripted_by()
            if where is not None:
                self.read.needed.setdefault(key, where)
            raise

    def __contains__(self, key: object) -> bool:
        if isinstance(key, str):
            self.read.add(key)
        return key in self._environ

    def __setitem__(self, key: str, value: str) -> None:
        self._environ[key] = value

    def __delitem__(self, key: str) -> None:
        del self._environ[key]

    def __iter__(self) -> Iterator[str]:
        return iter(self._environ)

    def __len__(self) -> int:
        return len(self._environ)

    def copy(self) -> dict[str, str]:
        return dict(self._environ)


@contextlib.contextmanager
def reading_environ() -> Iterator[EnvironReads]:
    """Record the environment variables looked up (``os.environ[...]``, ``.get``, ``in``,
    ``os.getenv``) inside the block; yields the set of names, filled as they are read, whose
    :attr:`~EnvironReads.needed` holds the unset ones read with ``os.environ[...]``."""
    original = os.environ
    recorder = _ReadingEnviron(original)
    # Replacing the mapping (not its contents) is the point: os.getenv and os.environ[...] look
    # the module attribute up on every call, and the variables themselves stay as they are.
    os.environ = recorder  # type: ignore[assignment]  # noqa: B003
    try:
        yield recorder.read
    finally:
        os.environ = original  # noqa: B003
