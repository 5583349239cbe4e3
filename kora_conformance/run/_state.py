"""What one certification run knows: its targets, options, exemptions and results, and how it
runs a check (in a process of its own, started ahead when planned).

The session keeps it in ``config.stash``; the run's nodes see it through
:class:`~kora_conformance.run._items.RunState`.
"""

from __future__ import annotations

import datetime as dt
import tempfile
import threading
from pathlib import Path

from kora_conformance import __version__ as KIT_VERSION
from kora_conformance.adapter import RuntimeAdapter
from kora_conformance.isolation._ahead import RunAhead
from kora_conformance.isolation._child import DEFAULT_TIMEOUT, Request, Result
from kora_conformance.isolation._child import run as run_in_child
from kora_conformance.model._check import Implementation, KitOptions, Profile
from kora_conformance.model._suites import implementations
from kora_conformance.model._targets import Target
from kora_conformance.run._exemptions import Exemption, load_exemptions
from kora_conformance.run._results import Results

__all__ = ["KitState", "declared_exemptions"]


def _declared(target: Target, cwd: Path) -> list[Exemption]:
    """Exemptions from the target's own project and from the invocation directory's project."""
    files = [cwd / "pyproject.toml"]
    for directory in (target.plugin_dir, target.project_dir):
        if directory is not None and (directory / "pyproject.toml") not in files:
            files.append(directory / "pyproject.toml")
    return load_exemptions(dict.fromkeys(p.resolve() for p in files))


def declared_exemptions(
    targets: list[Target], cwd: Path
) -> tuple[dict[str, list[Exemption]], list[str]]:
    """Each target's exemptions, and a warning for each naming a target this run lacks."""
    names = {t.name for t in targets}
    by_target: dict[str, list[Exemption]] = {}
    strays: dict[tuple[str, str, str], Exemption] = {}
    for target in targets:
        declared = _declared(target, cwd)
        by_target[target.name] = [e for e in declared if e.target in {"", target.name}]
        for e in declared:
            if e.target and e.target not in names:
                strays[(e.source, e.check, e.target)] = e
    warnings = [
        f"exemption for {e.check} in {e.source} names target {e.target!r}, which this run does "
        f"not certify (certified: {', '.join(sorted(names))}); a typo?"
        for e in strays.values()
    ]
    return by_target, warnings


class KitState:
    """What one certification run knows: targets, options, implementations and results."""

    def __init__(
        self,
        targets: list[Target],
        how: str,
        options: KitOptions,
        gate: str,
        report_path: Path | None,
        *,
        summary_path: Path | None = None,
        badge_path: Path | None = None,
        exemptions: dict[str, list[Exemption]] | None = None,
        today: dt.date | None = None,
        scratch: str | None = None,
        timeout: float = DEFAULT_TIMEOUT,
        jobs: int = 1,
    ) -> None:
        self.targets = targets
        self.how = how
        self.options = options
        self.gate = gate
        self.report_path = report_path
        self.summary_path = summary_path
        self.badge_path = badge_path
        self.implementations: dict[str, Implementation] = implementations()
        self.exemptions = exemptions or {}
        self.today = today or dt.date.today()
        self.results = Results(targets, self.exemptions)
        self._profiles: dict[str, Profile] = {}
        #: A directory of the run's own (hypothesis storage); removed when the run ends.
        self.scratch = scratch or tempfile.mkdtemp(prefix="kora-run-")
        #: Seconds one check (or learning a profile) may take; its process is then killed.
        self.timeout = timeout
        #: Checks started ahead of their items; ``None`` runs each when its item asks.
        self.ahead: RunAhead | None = RunAhead(self._child, jobs) if jobs > 1 else None
        #: What the header warns about (stray exemptions).
        self.warnings: list[str] = []
        #: Runtime target name → its adapter.
        self.adapters: dict[str, RuntimeAdapter] = {}

    def exemption(self, target: Target, check_id: str) -> Exemption | None:
        """The exemption declared for ``check_id`` on ``target``, if any."""
        return next((e for e in self.exemptions.get(target.name, []) if e.check == check_id), None)

    def exemption_problem(self, exemption: Exemption) -> str | None:
        """Why ``exemption`` cannot be honoured today, or ``None``."""
        return exemption.problem(today=self.today, kit_version=KIT_VERSION)

    def profile(self, target: Target) -> Profile:
        """What ``target`` registers; learnt (in a child process) on first use, then cached."""
        if target.name not in self._profiles:
            result = self._child(target, None, None)
            profile = result.profile
            if profile is None:
                why = f"learning what it registers failed: {result.seen}"
                profile = Profile(False, load_error=why)
            self._profiles[target.name] = profile
        return self._profiles[target.name]

    def run(self, target: Target, check_id: str, profile: Profile) -> Result:
        """Run one check on ``target`` in a process of its own (started ahead, if planned)."""
        if self.ahead is None:
            return self._child(target, check_id, profile)

        def applies(planned: str) -> bool:
            impl = self.implementations.get(planned)
            return impl is not None and impl.applies(profile) is None

        return self.ahead.result(target, check_id, profile, applies)

    def _child(
        self,
        target: Target,
        check_id: str | None,
        profile: Profile | None,
        stop: threading.Event | None = None,
    ) -> Result:
        request = Request.here(target, check_id, self.options, profile, self.scratch)
        return run_in_child(request, self.timeout, stop)
