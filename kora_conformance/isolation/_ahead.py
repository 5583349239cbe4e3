"""Running a target's checks ahead of their items, a few processes at a time.

pytest runs items one after another; each check runs in a process of its own (:mod:`._child`),
so nothing stops the checks of one target from running side by side. When the first item of a
target asks for its result, every check that target's selected items will ask for (and that
applies to it) is started, at most ``jobs`` at a time; each item then collects its own result in
its turn. Outcomes, their order in the report and everything the item decides (exemptions, the
gate) are unchanged: only the waiting overlaps.

Not used under pytest-xdist, whose workers already run items in parallel and each see only some
of a target's items.
"""

from __future__ import annotations

import concurrent.futures
import threading
from collections.abc import Callable, Iterable

from kora_conformance.isolation._child import Result
from kora_conformance.model._check import Profile
from kora_conformance.model._targets import Target

__all__ = ["RunAhead"]

#: ``run(target, check_id, profile, stop)``: one check in its own process, abandoned on ``stop``.
Runner = Callable[[Target, str, Profile, threading.Event], Result]


class RunAhead:
    """The checks started ahead of their items.

    :param run: runs one check in its own process and returns its result; it must kill the
        process and return soon after ``stop`` is set.
    :param jobs: how many checks may run at once.
    """

    def __init__(self, run: Runner, jobs: int) -> None:
        self._run = run
        self._pool = concurrent.futures.ThreadPoolExecutor(jobs, thread_name_prefix="kora-check")
        self._stop = threading.Event()
        self._planned: dict[str, list[str]] = {}
        self._started: dict[tuple[str, str], concurrent.futures.Future[Result]] = {}

    def plan(self, target: str, check_ids: Iterable[str]) -> None:
        """The checks ``target``'s selected items will ask for, in the order they will."""
        self._planned[target] = list(check_ids)

    def result(
        self,
        target: Target,
        check_id: str,
        profile: Profile,
        applies: Callable[[str], bool],
    ) -> Result:
        """The result of ``check_id`` on ``target``, starting the target's planned checks.

        :param applies: whether a planned check applies to the target (the others are skipped
            by their items and never started).
        """
        for planned in self._planned.pop(target.name, []):
            if applies(planned):
                self._started[(target.name, planned)] = self._pool.submit(
                    self._run, target, planned, profile, self._stop
                )
        future = self._started.pop((target.name, check_id), None)
        if future is None:  # not planned (a re-run, say): run it now
            return self._run(target, check_id, profile, self._stop)
        return future.result()

    def close(self) -> None:
        """Stop what is still running or waiting (the run ended early) and wait for the rest."""
        self._stop.set()
        self._pool.shutdown(wait=True, cancel_futures=True)
