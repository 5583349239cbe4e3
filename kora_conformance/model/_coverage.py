"""What a verdict rests on: each registration a plugin made, and the checks that examine it.

Every registration passes upstream's own rules when it is made (the reference runtime refuses
the rest); beyond that, a registration is *checked* when a catalog check that examines its kind
ran on the plugin (passed, failed, warned or was exempted), and *not covered* when no check
examines it. The report lists both, so a CONFORMANT verdict says what it certifies.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable, Mapping
from typing import Final

from kora_conformance.model._catalog import by_id
from reference_runtime import IDENTITY_HOOK, PROVIDER_OBJECTS, LoadedPlugin

__all__ = ["COVERING", "Basis", "Covered", "basis", "covering", "registrations_of"]

#: A registration: its kind (``"tool"``, ``"hook"``, ``"daemon"``, ...) and its key.
Registered = tuple[str, str]

_IDENTITY: Final = tuple(f"KC-ID-{n:03d}" for n in range(1, 8))
_DAEMON: Final = tuple(f"KC-DM-{n:03d}" for n in range(1, 8))

#: The checks that examine registrations of each kind (beyond the rules at registration time).
#: A kind not listed here is examined by no check. Kept honest by reading the suites: each ID
#: names a check whose code reads registrations of that kind.
COVERING: Final[Mapping[str, tuple[str, ...]]] = {
    # names (003), manifest hooks (004), reload counts (006), called with keywords (007),
    # result shapes (009)
    "hook": ("KC-PL-003", "KC-PL-004", "KC-PL-006", "KC-PL-007", "KC-PL-009"),
    # called with keywords (007), schemas (010), handlers (011), names (012), provides (013),
    # environment (014)
    "tool": ("KC-PL-007", "KC-PL-010", "KC-PL-011", "KC-PL-012", "KC-PL-013", "KC-PL-014"),
    "command": ("KC-PL-008", "KC-PL-012"),
    "cli_command": ("KC-PL-012",),
    "middleware": ("KC-PL-007",),
    # called with keywords (007); name and is_available() (021)
    "memory_provider": ("KC-PL-007", "KC-PL-021"),
    # required environment (014); check_fn() (021)
    "platform": ("KC-PL-014", "KC-PL-021"),
    # read as the host serves it (022)
    "skill": ("KC-PL-022",),
    # base class, name and is_available() (021)
    **dict.fromkeys((k for k in PROVIDER_OBJECTS if k != "memory_provider"), ("KC-PL-021",)),
    "identity_provider": ("KC-PL-006", *_IDENTITY),
    "daemon": _DAEMON,
    "listener": _DAEMON,
}

#: Outcomes meaning a check ran on the target (a skip did not look at anything).
_RAN: Final = frozenset({"passed", "failed", "warned", "exempted"})


def covering(kind: str) -> tuple[str, ...]:
    """The checks that examine registrations of ``kind`` (none for an unlisted kind)."""
    return COVERING.get(kind, ())


def registrations_of(plugin: LoadedPlugin) -> tuple[Registered, ...]:
    """Every registration ``plugin`` had made when its ``register`` returned, in order: the
    Hermes surface's (the identity hook as ``identity_provider``), then daemons and listeners.
    What a plugin that keeps its context registers later is not counted: a host reads the
    registrations once loading is done."""
    found: list[Registered] = []
    for record in plugin.registrations:
        identity = record.kind == "hook" and record.key == IDENTITY_HOOK
        found.append(("identity_provider" if identity else record.kind, record.key))
    found += [("daemon", entry.name) for entry in plugin.daemons]
    daemons = {entry.name for entry in plugin.daemons}
    found += [("listener", name) for name in plugin.listeners if name not in daemons]
    return tuple(found)


@dataclasses.dataclass(frozen=True)
class Covered:
    """One registration, and the checks that examined it on this target (empty: none did)."""

    kind: str
    key: str
    checks: tuple[str, ...]

    def label(self) -> str:
        return f"{self.kind.replace('_', ' ')} {self.key!r}"


@dataclasses.dataclass(frozen=True)
class Basis:
    """What a target's verdict rests on: its registrations, checked or not covered."""

    checked: tuple[Covered, ...]
    not_covered: tuple[Covered, ...]

    def as_dict(self) -> dict[str, object]:
        """The report's ``coverage`` object (see ``report.schema.json``)."""
        return {
            "checked": [
                {"kind": c.kind, "key": c.key, "checks": list(c.checks)} for c in self.checked
            ],
            "not_covered": [{"kind": c.kind, "key": c.key} for c in self.not_covered],
        }

    @property
    def nothing_checked(self) -> bool:
        """Whether it registered something, and no check examined any of it."""
        return not self.checked and bool(self.not_covered)

    def not_covered_line(self, limit: int = 8) -> str:
        """The registrations no check examined, at most ``limit`` of them named."""
        return _listed(self.not_covered, limit)

    def describe(self, limit: int = 8) -> str:
        """One line: how many registrations were checked, and which were not covered."""
        if not self.checked and not self.not_covered:
            return "rests on no registration: the plugin registered nothing (KC-PL-018)"
        line = f"rests on {_plural(len(self.checked), 'checked registration')}"
        if self.checked:
            line += f" ({_listed(self.checked, limit)})"
        if self.not_covered:
            line += f"; not covered by any check: {self.not_covered_line(limit)}"
        return line


def basis(registered: Iterable[Registered], outcomes: Mapping[str, str]) -> Basis:
    """Sort ``registered`` by whether a check examining it ran (``outcomes``: check ID to
    outcome on this target)."""
    checked: list[Covered] = []
    uncovered: list[Covered] = []
    for kind, key in registered:
        ran = tuple(c for c in covering(kind) if outcomes.get(c) in _RAN)
        (checked if ran else uncovered).append(Covered(kind, key, ran))
    return Basis(tuple(checked), tuple(uncovered))


def _plural(count: int, noun: str) -> str:
    return f"{count} {noun}" if count == 1 else f"{count} {noun}s"


def _listed(items: tuple[Covered, ...], limit: int) -> str:
    shown = ", ".join(c.label() for c in items[:limit])
    more = len(items) - limit
    return f"{shown} and {more} more" if more > 0 else shown


for _ids in COVERING.values():
    for _id in _ids:
        by_id(_id)  # an unknown ID is a bug in this table
