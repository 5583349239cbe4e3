"""What makes a plugin's daemon entries malformed (contract 3.1), for KC-DM-001 and the checks
that must skip a malformed plugin (a malformed interval would make a virtual run spin).

The rules are restated here rather than taken from the runtime's own validation: an entry that
bypassed that validation (``object.__setattr__`` on a frozen spec) is what they must catch.
"""

from __future__ import annotations

import math
import numbers
from collections import Counter
from typing import Final

from kora_conformance import DAEMON_NAME as CONTRACT_DAEMON_NAME
from kora_conformance import CheckContext
from kora_conformance.harness import Registered
from reference_runtime import BackgroundDaemonEntry, DaemonSpecError, PeriodicTaskSpec

__all__ = ["DAEMON_NAME", "malformed", "seconds_problem", "skip_if_malformed"]

#: The daemon side's name rule (contract 3.1), restated so an entry that bypassed it is caught.
DAEMON_NAME: Final = CONTRACT_DAEMON_NAME


def seconds_problem(value: object) -> str | None:
    """Why ``value`` is not a finite number of seconds > 0, or ``None``."""
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        return f"{type(value).__name__} {value!r}, not a number"
    if not math.isfinite(float(value)):
        return f"{value!r}, not finite"
    if value <= 0:
        return f"{value!r}, not > 0"
    return None


def _task_problems(task: object, owner: str) -> list[str]:
    if not isinstance(task, PeriodicTaskSpec):
        return [f"{owner}: periodic_task is {type(task).__name__}, not a PeriodicTaskSpec"]
    problems = []
    if (why := seconds_problem(task.interval_seconds)) is not None:
        problems.append(f"{owner}: periodic task {task.name!r} has interval_seconds {why}")
    name: object = task.name
    if not isinstance(name, str) or not name:
        problems.append(f"{owner}: a periodic task's name is {name!r}, not a non-empty string")
    callback: object = task.callback
    if not callable(callback):
        problems.append(f"{owner}: periodic task {task.name!r} has a callback that is not callable")
    return problems


def _entry_problems(entry: BackgroundDaemonEntry, registered: Registered) -> list[str]:
    name: object = entry.name
    if not isinstance(name, str) or not DAEMON_NAME.fullmatch(name):
        return [f"a daemon's name is {name!r}: use ASCII letters, digits, '_', '-' and '.'"]
    owner = f"daemon {name!r}"
    problems = []
    if registered.runtime.daemons.by_name(name) is not entry:
        problems.append(f"{owner} is not the entry registered under its name (renamed after)")
    if (why := seconds_problem(entry.shutdown_timeout)) is not None:
        problems.append(f"{owner}: shutdown_timeout is {why}")
    for field in ("startup", "shutdown"):
        if not callable(getattr(entry, field)):
            problems.append(f"{owner}: {field} is not callable")
    fatal: object = entry.fatal_on_startup_failure
    if not isinstance(fatal, bool):
        problems.append(f"{owner}: fatal_on_startup_failure is {fatal!r}, not True or False")
    if entry.periodic_task is not None:
        problems += _task_problems(entry.periodic_task, owner)
    return problems


def _listener_problems(registered: Registered) -> list[str]:
    problems = []
    for name in registered.listeners.names():
        if not name.isidentifier():
            problems.append(f"listener name {name!r} is not a Python identifier")
            continue
        try:
            registered.listeners.resolve(name)
        except DaemonSpecError as exc:
            problems.append(str(exc))
    for task in registered.listeners.tasks():
        owner = f"listener {task.listener!r}" if task.listener else "the listener side"
        problems += _task_problems(task.spec, owner)
    return problems


def malformed(registered: Registered) -> list[str]:
    """Every way the entries, listeners and tasks of ``registered`` break contract 3.1."""
    problems = [p for entry in registered.entries for p in _entry_problems(entry, registered)]
    counts = Counter(entry.name for entry in registered.entries)
    problems += [f"daemon name {n!r} is held by {c} entries" for n, c in counts.items() if c > 1]
    return problems + _listener_problems(registered)


def skip_if_malformed(ctx: CheckContext, registered: Registered) -> None:
    """Skip the check, naming KC-DM-001, when ``registered`` holds a malformed entry."""
    if malformed(registered):
        ctx.skip("its daemon entries are malformed (see KC-DM-001)")
