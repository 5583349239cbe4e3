"""Probing a runtime under certification with the kit's probe plugins.

The runtime checks drive the runtime only through its adapter (``ctx.adapter``, see
:mod:`kora_conformance.adapter`), never through the reference runtime's internals, so a fork's
runtime certifies through the same code. They start sessions that load the kit's probe plugins
(``kora_conformance/probes/probe_*``, plus the entry-point packages under
``probes/_entry_points`` that :func:`install_entry_point_probes` makes discoverable), then read
what the runtime did to them from the probes' journal
(:mod:`kora_conformance.probes.journal`) and what it logged.

Every check starts with :func:`prepare`: an empty journal, no behaviour set for generated
probes (:mod:`kora_conformance.probes.generated`), and a known environment
(``KORA_SYSTEM_PROMPT_PATH``, ``KORA_DISABLE_IDENTITY_PROVIDER`` and ``ANTHROPIC_BASE_URL``
unset, ``ANTHROPIC_API_KEY`` set to a dummy; the sandbox restores the operator's environment
afterwards).
"""

from __future__ import annotations

import logging
import os
import reprlib
import threading
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any, Final

from kora_conformance import (
    ENV_DISABLE_IDENTITY_PROVIDER,
    ENV_SYSTEM_PROMPT_PATH,
    PRIMARY_ENTRY_POINT_GROUP,
    CheckContext,
)
from kora_conformance.adapter import IdentityOutcome, LoadSpec, RuntimeAdapter, RuntimeSession
from kora_conformance.harness import write_distribution
from kora_conformance.probes import PROBES_DIR, generated, journal
from kora_conformance.probes.common import IDENTITIES

__all__ = [
    "DAEMON_RUN_GUARD",
    "ENTRY_POINTS",
    "ENTRY_POINT_DIR",
    "ENTRY_POINT_GROUP",
    "ENV_CLEARED",
    "ENV_PROMPT_PATH",
    "PROBES_DIR",
    "LoggedWarnings",
    "describe_loading",
    "first_index",
    "install_entry_point_probes",
    "names_of",
    "prepare",
    "probe_session",
    "prompt_file",
    "resolve",
    "run_daemons",
    "set_prompt_path_env",
    "timeline",
    "warnings_logged",
    "whose_identity",
]

#: The parent directory of the entry-point probe packages (put on ``sys.path`` by KC-RT-004).
ENTRY_POINT_DIR: Final = PROBES_DIR / "_entry_points"
ENTRY_POINT_GROUP: Final = PRIMARY_ENTRY_POINT_GROUP
#: Entry-point probe name → the entry point's value, one per form.
ENTRY_POINTS: Final[Mapping[str, str]] = {
    "probe_ep_module": "kc_probe_ep_module",
    "probe_ep_callable": "kc_probe_ep_callable:register",
}

ENV_PROMPT_PATH: Final = ENV_SYSTEM_PROMPT_PATH
ENV_CLEARED: Final = (ENV_PROMPT_PATH, ENV_DISABLE_IDENTITY_PROVIDER, "ANTHROPIC_BASE_URL")

#: How long (real seconds) the kit waits for ``run_daemons`` before calling the run hung.
DAEMON_RUN_GUARD: Final = 60.0


def _adapter(ctx: CheckContext) -> RuntimeAdapter:
    adapter = ctx.adapter
    if adapter is None:
        ctx.skip("no runtime adapter: this target is not a runtime")
    return adapter


def prepare(ctx: CheckContext) -> RuntimeAdapter:
    """The adapter under certification, with an empty journal and a known environment."""
    adapter = _adapter(ctx)
    journal.clear()
    for controls in (generated.BEHAVIOUR, generated.REGISTER, generated.LIFECYCLE):
        controls.clear()  # what generated probes do is the check's to set
    for name in ENV_CLEARED:
        os.environ.pop(name, None)
    os.environ["ANTHROPIC_API_KEY"] = "test-key"
    return adapter


def _missing_default(ctx: CheckContext) -> Path:
    return ctx.sandbox.scratch / "no-such-default-system-prompt.md"


def prompt_file(ctx: CheckContext, name: str, text: str) -> Path:
    """A system prompt file ``name`` holding ``text``, in the check's scratch directory."""
    path = ctx.sandbox.scratch / name
    path.write_text(text, encoding="utf-8")
    return path


def set_prompt_path_env(value: str | None) -> None:
    """Set :data:`ENV_PROMPT_PATH` to ``value``, or unset it for ``None``."""
    if value is None:
        os.environ.pop(ENV_PROMPT_PATH, None)
    else:
        os.environ[ENV_PROMPT_PATH] = value


@contextmanager
def probe_session(
    ctx: CheckContext,
    enabled: Sequence[str],
    *,
    groups: tuple[str, ...] = (),
    default: Path | None = None,
    extra_dirs: Sequence[Path] = (),
    static: bool = True,
) -> Iterator[RuntimeSession]:
    """A fresh runtime instance that loaded the probes ``enabled``; closed afterwards.

    :param groups: entry-point groups to discover in, besides the probes' directory.
    :param default: the default system prompt path; a file that does not exist by default.
    :param extra_dirs: plugin search roots after the probes' directory (generated probes).
    :param static: search the kit's static probes' directory; ``False`` for sessions over
        generated probes only (fewer manifests to read per session).
    """
    adapter = _adapter(ctx)
    spec = LoadSpec(
        enabled=tuple(enabled),
        plugin_dirs=(*((PROBES_DIR,) if static else ()), *extra_dirs),
        entry_point_groups=groups,
        default_system_prompt_path=default if default is not None else _missing_default(ctx),
    )
    try:
        started = adapter.start(spec)
    except Exception as exc:  # noqa: BLE001 - the runtime's failure is the finding
        ctx.fail(
            expected=f"the runtime to start and load plugins.enabled = {list(enabled)}, "
            "recording failing plugins instead of raising",
            seen=f"adapter.start raised {type(exc).__name__}: {exc}",
        )
    try:
        yield started
    finally:
        started.close()


def whose_identity(outcome: IdentityOutcome) -> str:
    """Which probe's identity ``outcome`` is, for humans."""
    for name, identity in IDENTITIES.items():
        if outcome.system_prompt == identity.system_prompt:
            return f"{name}'s identity"
    return f"the system prompt {reprlib.repr(outcome.system_prompt)}"


def resolve(
    ctx: CheckContext, running: RuntimeSession, enabled: Sequence[str], **kwargs: Any
) -> IdentityOutcome:
    """``running.resolve_identity(**kwargs)``, failing the check if it raises."""
    try:
        return running.resolve_identity(**kwargs)
    except Exception as exc:  # noqa: BLE001 - the runtime's failure is the finding
        ctx.fail(
            expected=f"identity resolution with plugins.enabled = {list(enabled)} to succeed",
            seen=f"resolve_identity raised {type(exc).__name__}: {exc}",
        )


def describe_loading(running: RuntimeSession) -> str:
    """What the session loaded and failed to load, for a failure's detail."""
    errors = dict(running.load_errors)
    shown = "; ".join(f"{k}: {v}" for k, v in errors.items()) or "none"
    return f"loaded, in order: {list(running.loaded)}; load errors: {shown}"


def install_entry_point_probes(scratch: Path) -> None:
    """Make the entry-point probes discoverable: a temporary distribution in ``scratch``.

    Writes ``.dist-info`` (METADATA and ``entry_points.txt`` in ``hermes_agent.plugins``) and puts
    it and the probe packages' parent directory on ``sys.path``; the sandbox restores it.
    """
    write_distribution(
        scratch,
        "kora-conformance-entry-point-probes",
        "1.0",
        {ENTRY_POINT_GROUP: ENTRY_POINTS},
        summary="The kora-conformance kit's entry-point probe plugins",
        path=(ENTRY_POINT_DIR,),
    )


def run_daemons(ctx: CheckContext, running: RuntimeSession, seconds: float) -> int:
    """``running.run_daemons(seconds)``, failing the check if it raises or never returns."""
    outcome: list[object] = []

    def run() -> None:
        try:
            outcome.append(running.run_daemons(seconds))
        except BaseException as exc:  # noqa: BLE001 - handed to the check thread
            outcome.append(exc)

    worker = threading.Thread(target=run, name="kora-conformance-daemons", daemon=True)
    worker.start()
    worker.join(DAEMON_RUN_GUARD)
    if worker.is_alive():
        ctx.fail(
            expected=f"run_daemons({seconds:g}) to return (virtual time; every shutdown "
            "bounded by its timeout)",
            seen=f"it had not returned after {DAEMON_RUN_GUARD:g} s of real time; "
            + _abandon(running, worker),
            detail=timeline(journal.events()),
        )
    result = outcome[0]
    if isinstance(result, BaseException):
        ctx.fail(
            expected=f"run_daemons({seconds:g}) to return an exit status",
            seen=f"it raised {type(result).__name__}: {result}",
            detail=timeline(journal.events()),
        )
    if not isinstance(result, int):
        ctx.fail(
            expected=f"run_daemons({seconds:g}) to return an int exit status",
            seen=f"it returned {type(result).__name__} {result!r}",
        )
    return result


def _abandon(running: RuntimeSession, worker: threading.Thread) -> str:
    """Ask a hung ``run_daemons`` to stop: the session's ``request_shutdown`` if it has one, then
    ``close()``; say what was done and whether its thread still runs."""
    done = []
    for name in ("request_shutdown", "close"):
        method = getattr(running, name, None)
        if not callable(method):
            continue
        try:
            method()
        except Exception as exc:  # noqa: BLE001 - best effort; the hang is the finding
            done.append(f"{name}() raised {type(exc).__name__}: {exc}")
        else:
            done.append(f"called {name}()")
    worker.join(1.0)
    state = "stopped" if not worker.is_alive() else "is still running the runtime's code"
    return f"the kit gave up on it ({', '.join(done) or 'nothing to call'}); its thread {state}"


def timeline(events: Sequence[journal.Event]) -> str:
    """The journal, one event a line, for a failure's detail."""
    if not events:
        return "journal: (empty)"
    start = events[0].at
    return "journal:\n" + "\n".join(f"  {e.describe(start)}" for e in events)


def names_of(events: Sequence[journal.Event], kind: str) -> list[str]:
    """The ``who`` of each event of ``kind``, in order."""
    return [e.who for e in events if e.kind == kind]


def first_index(events: Sequence[journal.Event], kind: str, who: str | None = None) -> int | None:
    """The index of the first event of ``kind`` (concerning ``who``, if given), or ``None``."""
    return next((i for i, e in enumerate(events) if e.kind == kind and who in (None, e.who)), None)


class LoggedWarnings(logging.Handler):
    """WARNING and above, as the root logger received them."""

    def __init__(self) -> None:
        super().__init__(logging.WARNING)
        self.records: list[logging.LogRecord] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append(record)

    def messages(self) -> list[str]:
        """Each record's message; a record that cannot be formatted gives its raw ``msg``."""
        found = []
        for record in self.records:
            try:
                found.append(record.getMessage())
            except Exception:  # noqa: BLE001 - a malformed record still counts as text
                found.append(str(record.msg))
        return found


@contextmanager
def warnings_logged() -> Iterator[LoggedWarnings]:
    """WARNING and above reaching the root logger during the block."""
    root = logging.getLogger()
    handler = LoggedWarnings()
    level = root.level
    if level > logging.WARNING:
        root.setLevel(logging.WARNING)
    root.addHandler(handler)
    try:
        yield handler
    finally:
        root.removeHandler(handler)
        root.setLevel(level)
