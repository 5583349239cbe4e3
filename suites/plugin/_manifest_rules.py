"""The manifest rules of KC-PL-013 to KC-PL-017: the raw fields, version clauses, the v2 fields,
and which environment variables a plugin reads.

The reference runtime keeps the manifest's upstream fields as written and interprets few of them;
these rules read the file itself, so every field (``provides_commands`` too) is seen as written.
"""

from __future__ import annotations

import contextlib
import os
import re
from collections.abc import Iterator, Mapping, MutableMapping
from pathlib import Path
from typing import Any, Final

import yaml
from packaging.requirements import InvalidRequirement, Requirement
from packaging.specifiers import SpecifierSet
from packaging.version import InvalidVersion, Version

__all__ = [
    "CONFIG_TYPES",
    "SUPPORTED_MANIFEST_VERSIONS",
    "V2_FIELDS",
    "clause_problem",
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
    """Whether ``requirement`` has no upper bound (a URL requirement is pinned)."""
    if requirement.url:
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
    return problems


class _ReadingEnviron(MutableMapping[str, str]):
    """``os.environ`` that remembers which names were looked up."""

    def __init__(self, environ: MutableMapping[str, str]) -> None:
        self._environ = environ
        self.read: set[str] = set()

    def __getitem__(self, key: str) -> str:
        self.read.add(key)
        return self._environ[key]

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
def reading_environ() -> Iterator[set[str]]:
    """Record the environment variables looked up (``os.environ[...]``, ``.get``, ``in``,
    ``os.getenv``) inside the block; yields the set of names, filled as they are read."""
    original = os.environ
    recorder = _ReadingEnviron(original)
    # Replacing the mapping (not its contents) is the point: os.getenv and os.environ[...] look
    # the module attribute up on every call, and the variables themselves stay as they are.
    os.environ = recorder  # type: ignore[assignment]  # noqa: B003
    try:
        yield recorder.read
    finally:
        os.environ = original  # noqa: B003
