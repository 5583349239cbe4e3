"""Exemptions: checks a plugin or fork knowingly fails, each with a reason and an expiry.

Declared in ``pyproject.toml``::

    [tool.kora-conformance]
    exemptions = [
        { check = "KC-PL-004", reason = "hooks listed at runtime", until = "2027-03-31" },
        { check = "KC-ID-007", reason = "metadata in 0.3", until = "0.3.0", target = "marvin" },
    ]

``until`` is a date (``YYYY-MM-DD``) or a kit version; the exemption holds before it. ``target``
limits it to one target. An exempted failure is reported as ``exempted`` and does not fail the
run. An exemption without a reason, past its ``until``, or for a check that passes is a failure
of that check, so stale exemptions get removed; an unknown check ID stops the run.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import re
import sys
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

from kora_conformance._errors import TargetError
from kora_conformance.model._catalog import by_id

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - exercised on 3.10 only
    import tomli as tomllib  # type: ignore[import-not-found,unused-ignore]

__all__ = ["Exemption", "load_exemptions"]

_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
_VERSION = re.compile(r"^\d+(\.\d+){0,2}$")


def _version_tuple(text: str) -> tuple[int, ...]:
    return tuple(int(part) for part in re.findall(r"\d+", text)[:3])


@dataclasses.dataclass(frozen=True)
class Exemption:
    """One declared exemption.

    :param check: the exempted check's ID.
    :param reason: why the check is knowingly failed; required.
    :param until: a date or kit version before which it holds; ``""`` for no expiry.
    :param target: the target it applies to; ``""`` for every target.
    :param source: the file that declared it.
    """

    check: str
    reason: str
    until: str = ""
    target: str = ""
    source: str = ""

    def problem(self, *, today: dt.date, kit_version: str) -> str | None:
        """Why this exemption cannot be honoured, or ``None`` when it holds."""
        if not self.reason.strip():
            return f"the exemption for {self.check} in {self.source} has no reason; add one"
        if not self.until:
            return None
        if _DATE.match(self.until):
            if today > dt.date.fromisoformat(self.until):
                return (
                    f"the exemption for {self.check} in {self.source} expired on {self.until}; "
                    "fix the check or renew the exemption with a new reason"
                )
            return None
        if _version_tuple(kit_version) >= _version_tuple(self.until):
            return (
                f"the exemption for {self.check} in {self.source} held until kit {self.until} "
                f"and this is kit {kit_version}; fix the check or renew the exemption"
            )
        return None

    def as_dict(self) -> dict[str, str]:
        return dataclasses.asdict(self)


def _parse(entries: object, source: Path) -> list[Exemption]:
    if not isinstance(entries, list):
        msg = f"{source}: [tool.kora-conformance] exemptions must be a list of tables"
        raise TargetError(msg)
    found = []
    for entry in entries:
        if not isinstance(entry, Mapping) or not isinstance(entry.get("check"), str):
            msg = f'{source}: each exemption needs check = "KC-..." (got {entry!r})'
            raise TargetError(msg)
        try:
            by_id(entry["check"])
        except KeyError as exc:
            msg = f"{source}: exemption for unknown check {entry['check']!r}: {exc.args[0]}"
            raise TargetError(msg) from None
        found.append(
            Exemption(
                check=entry["check"],
                reason=_text(entry, "reason", source),
                until=_until(entry, source),
                target=_text(entry, "target", source),
                source=str(source),
            )
        )
    return found


def _text(entry: Mapping[str, Any], key: str, source: Path) -> str:
    value = entry.get(key, "")
    if not isinstance(value, str):
        msg = (
            f"{source}: the exemption for {entry['check']} has {key} = {value!r}; {key} must be "
            f'a string, e.g. {key} = "..."'
        )
        raise TargetError(msg)
    return value


def _until(entry: Mapping[str, Any], source: Path) -> str:
    """``until`` as text: a real date (TOML's own date, or ``"YYYY-MM-DD"``) or a version."""
    value = entry.get("until", "")
    if isinstance(value, dt.date):
        return value.isoformat()
    problem = None
    if not isinstance(value, str):
        problem = f"until = {value!r} is not a string"
    elif _DATE.match(value):
        try:
            dt.date.fromisoformat(value)
        except ValueError:
            problem = f"until = {value!r} is not a date"
    elif value and not _VERSION.match(value):
        problem = f"until = {value!r} is neither a date nor a kit version"
    if problem is not None:
        msg = (
            f"{source}: the exemption for {entry['check']}: {problem}; write a date "
            '(until = "2027-03-31") or a kit version (until = "0.3.0")'
        )
        raise TargetError(msg)
    return str(value)


def load_exemptions(pyprojects: Iterable[Path]) -> list[Exemption]:
    """Every exemption declared in the given ``pyproject.toml`` files (missing files skipped).

    :raises TargetError: a malformed table or an unknown check ID.
    """
    found: list[Exemption] = []
    for path in pyprojects:
        if not path.is_file():
            continue
        try:
            data: dict[str, Any] = tomllib.loads(path.read_text(encoding="utf-8"))
        except (OSError, tomllib.TOMLDecodeError) as exc:
            msg = f"{path} cannot be read as TOML ({exc})"
            raise TargetError(msg) from exc
        tool = data.get("tool", {})
        section = tool.get("kora-conformance", {}) if isinstance(tool, Mapping) else {}
        if not isinstance(section, Mapping):
            msg = (
                f"{path}: [tool.kora-conformance] must be a table (got {type(section).__name__}); "
                "write it as [tool.kora-conformance] with exemptions = [...] inside"
            )
            raise TargetError(msg)
        if "exemptions" in section:
            found.extend(_parse(section["exemptions"], path))
    return found
