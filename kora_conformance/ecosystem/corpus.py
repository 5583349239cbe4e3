"""A corpus: the plugins an ecosystem run certifies, read from a TOML file.

The file's format is ``corpus.schema.json`` (shipped beside this module); :func:`load_corpus`
validates against it with ``jsonschema`` and then checks what a schema cannot say (paths relative
to the file, one target per ID). Nothing is installed or imported here.
"""

from __future__ import annotations

import dataclasses
import json
import re
import sys
from functools import cache
from importlib import resources
from pathlib import Path
from typing import Any, Literal

from kora_conformance._errors import KitError

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - exercised on 3.10 only
    import tomli as tomllib  # type: ignore[import-not-found,unused-ignore]

__all__ = ["CorpusError", "Entry", "corpus_schema", "load_corpus", "slug"]

Kind = Literal["package", "repository", "path"]


class CorpusError(KitError, ValueError):
    """A corpus file cannot be read, breaks its schema, or names one target twice."""


@dataclasses.dataclass(frozen=True)
class Entry:
    """One target of a corpus.

    :param id: its key in reports (unique in the corpus).
    :param kind: ``package``, ``repository`` or ``path``.
    :param package: ``name==version`` (package targets).
    :param entry_point: the plugin's entry-point name (package targets).
    :param repository: what ``git fetch`` is given (repository targets).
    :param commit: the pinned commit (repository targets).
    :param subdirectory: the plugin inside the repository, relative to its root.
    :param path: the local directory, absolute (path targets).
    :param install: build an environment and pip-install the directory into it.
    :param requirements: further requirements for the target's environment.
    :param env: environment variables for its certification.
    """

    id: str
    kind: Kind
    package: str = ""
    entry_point: str = ""
    repository: str = ""
    commit: str = ""
    subdirectory: str = ""
    path: Path | None = None
    install: bool = False
    requirements: tuple[str, ...] = ()
    env: tuple[tuple[str, str], ...] = ()

    @property
    def needs_environment(self) -> bool:
        """Whether the target gets an environment of its own (else it is certified in place).

        A package always does; a directory does when it is to be installed or needs more
        packages. A plugin directory on its own needs nothing installed: the kit loads it
        from where it is.
        """
        return self.kind == "package" or self.install or bool(self.requirements)

    @property
    def name(self) -> str:
        """What a report calls the target before (or without) certifying it."""
        if self.kind == "package":
            return re.split(r"[\[=]", self.package, maxsplit=1)[0]
        if self.kind == "repository":
            tail = self.subdirectory.rstrip("/") or self.repository.rstrip("/")
            return tail.rsplit("/", 1)[-1].removesuffix(".git")
        assert self.path is not None
        return self.path.name

    @property
    def version(self) -> str:
        """The pinned version of a package target; empty for the others."""
        return self.package.split("==", 1)[1] if self.kind == "package" else ""

    def source(self) -> dict[str, Any]:
        """Where the target comes from, as the ecosystem report records it."""
        if self.kind == "package":
            return {"kind": "package", "package": self.package, "entry_point": self.entry_point}
        if self.kind == "repository":
            return {
                "kind": "repository",
                "repository": self.repository,
                "commit": self.commit,
                "subdirectory": self.subdirectory or ".",
            }
        return {"kind": "path", "path": str(self.path)}


@cache
def corpus_schema() -> dict[str, Any]:
    """The corpus format's JSON Schema (``kora_conformance/ecosystem/corpus.schema.json``)."""
    text = resources.files(__package__).joinpath("corpus.schema.json").read_text("utf-8")
    schema: dict[str, Any] = json.loads(text)
    return schema


def slug(entry_id: str) -> str:
    """A file name for ``entry_id``: readable, and distinct for distinct IDs."""
    import hashlib  # noqa: PLC0415 - only file names need it

    readable = re.sub(r"[^A-Za-z0-9._-]+", "-", entry_id).strip("-.")[:60] or "target"
    return f"{readable}-{hashlib.sha256(entry_id.encode()).hexdigest()[:8]}"


def _where(error: Any) -> str:
    parts = list(error.absolute_path)
    if len(parts) >= 2 and parts[0] == "target":
        where = f"target {parts[1] + 1}"
        if len(parts) > 2:
            where += f", field {'.'.join(str(p) for p in parts[2:])!r}"
        return where
    return "top level" if not parts else f"field {'.'.join(str(p) for p in parts)!r}"


def _schema_problem(data: dict[str, Any]) -> str | None:
    import jsonschema  # noqa: PLC0415 - a corpus is the only thing here validated this way

    validator = jsonschema.Draft202012Validator(corpus_schema())
    errors = sorted(validator.iter_errors(data), key=lambda e: list(e.absolute_path))
    if not errors:
        return None
    problems = []
    for error in errors:
        if error.validator == "oneOf":
            # Which of the three kinds was meant: the one whose key the table has.
            target = error.instance if isinstance(error.instance, dict) else {}
            kinds = [k for k in ("package", "repository", "path") if k in target]
            if len(kinds) != 1:
                message = (
                    "a target needs exactly one of 'package' (with 'entry_point'), "
                    f"'repository' (with 'commit') or 'path'; this one has {kinds or 'none'}"
                )
            else:
                index = ("package", "repository", "path").index(kinds[0])
                sub = [e for e in error.context or [] if list(e.schema_path)[:1] == [index]]
                best = jsonschema.exceptions.best_match(sub) or error
                field = ".".join(str(p) for p in best.relative_path)
                message = f"{kinds[0]} target: {best.message}" + (
                    f" (field {field!r})" if field else ""
                )
        else:
            message = error.message
        problems.append(f"{_where(error)}: {message}")
    return "; ".join(problems)


def _entry(table: dict[str, Any], base: Path, defaults: dict[str, Any]) -> Entry:
    requirements = (*defaults.get("requirements", ()), *table.get("requirements", ()))
    env = {**defaults.get("env", {}), **table.get("env", {})}
    common: dict[str, Any] = {
        "install": bool(table.get("install", False)),
        "requirements": tuple(requirements),
        "env": tuple(sorted(env.items())),
    }
    if "package" in table:
        package = str(table["package"])
        return Entry(
            table.get("id", package),
            "package",
            package=package,
            entry_point=str(table["entry_point"]),
            **common,
        )
    if "repository" in table:
        subdirectory = str(table.get("subdirectory", "")).strip("/")
        default_id = f"{table['repository']}@{table['commit']}"
        if subdirectory and subdirectory != ".":
            default_id += f"/{subdirectory}"
        return Entry(
            table.get("id", default_id),
            "repository",
            repository=str(table["repository"]),
            commit=str(table["commit"]),
            subdirectory="" if subdirectory == "." else subdirectory,
            **common,
        )
    written = str(table["path"])
    return Entry(
        table.get("id", Path(written).as_posix()), "path", path=(base / written).resolve(), **common
    )


def load_corpus(path: Path) -> list[Entry]:
    """The targets of the corpus file ``path``, in the file's order.

    :raises CorpusError: the file cannot be read as TOML, breaks the corpus schema, or two
        targets share an ID; the message names the file, the target and the field, and says
        what to change.
    """
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except OSError as exc:
        msg = f"corpus {path} cannot be read ({exc.strerror or exc})"
        raise CorpusError(msg) from exc
    except tomllib.TOMLDecodeError as exc:
        msg = f"corpus {path} is not valid TOML ({exc}); see docs/ecosystem.md for the format"
        raise CorpusError(msg) from exc
    problem = _schema_problem(data)
    if problem is not None:
        msg = (
            f"corpus {path} breaks the corpus schema: {problem}; the format is "
            "kora_conformance/ecosystem/corpus.schema.json, described in docs/ecosystem.md"
        )
        raise CorpusError(msg)
    base = path.resolve().parent
    entries = [_entry(t, base, data.get("defaults", {})) for t in data["target"]]
    seen: dict[str, int] = {}
    for number, entry in enumerate(entries, start=1):
        if entry.id in seen:
            msg = (
                f"corpus {path}: targets {seen[entry.id]} and {number} are both {entry.id!r}; "
                "give one of them an 'id' of its own"
            )
            raise CorpusError(msg)
        seen[entry.id] = number
    return entries
