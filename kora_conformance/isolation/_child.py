"""Each check in a process of its own: the process that judges never runs plugin code.

The pytest process collects, decides applicability, judges and reports; everything that imports
or calls a plugin (learning a target's profile, running one check) happens in a child process
forked from a prepared server (multiprocessing's ``forkserver``, which has already imported the
kit, its suites, the SDK and hypothesis; ``spawn`` where fork is unavailable). The child gets a
:class:`Request` and sends back one :class:`Result` over a pipe; the parent decides from that
message and from how the child ended:

- a child that ends without sending (``os._exit``, a signal, a crash) is a failure of that check
  that says how it ended, never a pass or a skip;
- a child still running after its budget is killed, and the check fails saying so;
- only the kit decides a skip: a ``pytest.skip``/``xfail``/``fail``/``exit`` or a
  ``SystemExit``/``KeyboardInterrupt`` raised by plugin code fails the check it happened in.

So nothing one check or one plugin changes in its process (modules, patches, builtins, the
working directory, ``atexit`` handlers, threads) survives into the next check or the verdict.
"""

from __future__ import annotations

import contextlib
import dataclasses
import functools
import importlib
import importlib.machinery
import io
import logging
import multiprocessing
import multiprocessing.connection
import multiprocessing.context
import os
import signal
import sys
import tempfile
import threading
import time
import traceback
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any, Final, Literal

import pytest

from kora_conformance._errors import CheckFailed, CheckSkipped
from kora_conformance.adapter import RuntimeAdapter, load_adapter, reference_adapter
from kora_conformance.isolation import _audit as audit
from kora_conformance.isolation._sandbox import sandbox
from kora_conformance.model._check import CheckContext, KitOptions, Profile
from kora_conformance.model._coverage import registrations_of
from kora_conformance.model._suites import implementations
from kora_conformance.model._targets import Target
from reference_runtime import Runtime

__all__ = ["DEFAULT_TIMEOUT", "Request", "Result", "learn_profile", "run", "start_server"]

#: Seconds a check (or learning a profile) may take before its process is killed.
DEFAULT_TIMEOUT: Final = 120.0
#: The most a child sends back of what it printed, and of what it logged.
_OUTPUT_LIMIT: Final = 20_000
#: How often a wait that can be stopped looks at its stop event.
_STOP_POLL: Final = 0.1
#: Imported once by the fork server, so that each child starts with them loaded.
_PRELOAD: Final = ("kora_conformance.isolation._preload",)
#: Imported by the fork server too when the run certifies a runtime (see ``_preload_wire``).
_WIRE_PRELOAD: Final = ("kora_conformance.isolation._preload_wire",)
_PLUGIN_OUTCOMES: Final = {
    pytest.skip.Exception: "pytest.skip",
    pytest.xfail.Exception: "pytest.xfail",
    pytest.fail.Exception: "pytest.fail",
    pytest.exit.Exception: "pytest.exit",
}

Status = Literal["passed", "failed", "skipped", "error"]


@dataclasses.dataclass(frozen=True)
class Request:
    """What a child is asked to do, and the parent's process state it runs under.

    :param check_id: the check to run; ``None`` to learn the target's :class:`Profile`.
    """

    target: Target
    check_id: str | None
    options: KitOptions
    profile: Profile | None
    cwd: str
    sys_path: tuple[str, ...]
    environ: dict[str, str]
    scratch: str

    @classmethod
    def here(
        cls,
        target: Target,
        check_id: str | None,
        options: KitOptions,
        profile: Profile | None,
        scratch: str,
    ) -> Request:
        """A request carrying this process's working directory, ``sys.path`` and environment."""
        return cls(
            target,
            check_id,
            options,
            profile,
            os.getcwd(),
            tuple(sys.path),
            dict(os.environ),
            scratch,
        )


@dataclasses.dataclass(frozen=True)
class Result:
    """What a child reports: the outcome, and what the check's process printed and logged.

    ``seen`` carries the skip reason for ``skipped`` and the error for ``error`` (the check
    itself raised: a plugin error the check did not expect, or a kit bug); ``detail`` the
    traceback; ``note`` what a check that passed says it did not judge.
    """

    status: Status
    expected: str = ""
    seen: str = ""
    detail: str = ""
    profile: Profile | None = None
    output: str = ""
    log: str = ""
    #: Seconds the check took in its process.
    duration: float = 0.0
    note: str = ""


def learn_profile(target: Target, *, seal: bool = False) -> Profile:
    """Load ``target`` in a sandbox and say what it registers (runs in a child).

    :param seal: once loaded, keep the process's network and process guard blocking until the
        process ends (see :func:`.audit.seal`): for a child that exits right after.
    """
    if target.route == "runtime":
        return Profile(True)
    manifest = target.manifest_path
    with sandbox() as box, target.installed(box.scratch):
        runtime = Runtime(target.config())
        report = runtime.load()
        if seal:
            audit.seal()
        plugin = report.plugin(target.name)
        if plugin is None:
            error = report.errors.get(target.name, "not found")
            return Profile(False, load_error=error, manifest_path=manifest)
        kinds = Counter(r.kind for r in runtime.registrations(target.name))
        return Profile(
            True,
            manifest_path=manifest,
            hook_names=plugin.hook_names,
            identity_providers=len(plugin.identity_providers),
            daemons=len(plugin.daemons),
            listeners=len(plugin.listeners),
            registered=tuple(kinds.items()),
            registrations=registrations_of(plugin),
        )


def _adapter(target: Target) -> RuntimeAdapter | None:
    if target.route != "runtime" or target.adapter is None:
        return None
    if target.adapter.startswith("kora_conformance:reference_adapter"):
        return reference_adapter()
    return load_adapter(target.adapter, Path.cwd())


def _innermost(exc: BaseException) -> str:
    return audit.plugin_location(traceback.extract_tb(exc.__traceback__))


def _execute(request: Request) -> Result:
    target = request.target
    if request.check_id is None:
        return Result("passed", profile=learn_profile(target, seal=True))
    assert request.profile is not None
    impl = implementations()[request.check_id]
    adapter = _adapter(target)
    with sandbox() as box, target.installed(box.scratch):
        context = CheckContext(
            impl.check, target, box, request.profile, request.options, adapter=adapter
        )
        try:
            try:
                impl.function(context)
            finally:
                # The check is over; threads the plugin started may run on until the process
                # ends, and the sandbox's exit is about to take the guard's patches away.
                audit.seal()
        except CheckFailed as failure:
            return Result("failed", failure.expected, failure.seen, failure.detail)
        except CheckSkipped as skip:
            return Result("skipped", seen=skip.reason)
        except tuple(_PLUGIN_OUTCOMES) as outcome:
            name = next(v for k, v in _PLUGIN_OUTCOMES.items() if isinstance(outcome, k))
            return Result(
                "failed",
                expected="no pytest outcome raised by the plugin's code: only the kit decides "
                "a check's outcome",
                seen=f"the plugin's code called {name}({str(outcome)!r}){_innermost(outcome)}",
            )
        except (SystemExit, KeyboardInterrupt, GeneratorExit) as stop:
            return Result(
                "failed",
                expected="the plugin's code not to stop the process",
                seen=f"it raised {type(stop).__name__}({stop}){_innermost(stop)}",
            )
    return Result("passed", note="; ".join(context.notes))


class _Capture:
    """The child's standard output and error (at the file-descriptor level) and its log."""

    def __init__(self) -> None:
        # Open until the process ends: the child exits right after reading it back.
        self.sink = tempfile.TemporaryFile()  # noqa: SIM115
        for stream in (sys.stdout, sys.stderr):
            stream.flush()
        for fd in (1, 2):
            os.dup2(self.sink.fileno(), fd)
        self.log = io.StringIO()
        handler = logging.StreamHandler(self.log)
        handler.setFormatter(
            logging.Formatter("%(levelname)-8s %(name)s:%(filename)s:%(lineno)d %(message)s")
        )
        logging.getLogger().addHandler(handler)

    def collected(self) -> tuple[str, str]:
        for stream in (sys.stdout, sys.stderr):
            stream.flush()
        self.sink.seek(0)
        output = self.sink.read().decode("utf-8", "replace")
        return output[-_OUTPUT_LIMIT:], self.log.getvalue()[-_OUTPUT_LIMIT:]


def _main(sender: multiprocessing.connection.Connection, request: Request) -> None:
    """The child: run ``request`` under the parent's process state, send the result, exit."""
    os.chdir(request.cwd)
    sys.path[:] = request.sys_path
    os.environ.clear()
    os.environ.update(request.environ)
    importlib.invalidate_caches()
    from hypothesis.configuration import set_hypothesis_home_dir  # noqa: PLC0415

    set_hypothesis_home_dir(request.scratch)
    audit.install()
    capture = _Capture()
    started = time.perf_counter()
    try:
        result = _execute(request)
    except BaseException as exc:  # noqa: BLE001 - whatever happened is the parent's to judge
        result = Result(
            "error",
            seen=f"{type(exc).__name__}: {exc}",
            detail="".join(traceback.format_exception(exc)),
        )
    output, log = capture.collected()
    elapsed = time.perf_counter() - started
    result = dataclasses.replace(result, output=output, log=log, duration=elapsed)
    try:
        sender.send(result)
    except Exception as exc:  # noqa: BLE001 - say why instead of dying silently
        sender.send(Result("error", seen=f"the check's result could not be sent: {exc!r}"))
    sender.close()
    # Straight out: no atexit handler and no thread the plugin left behind runs or is waited for.
    os._exit(0)


@functools.cache
def _context() -> multiprocessing.context.BaseContext:
    if "forkserver" in multiprocessing.get_all_start_methods():
        context = multiprocessing.get_context("forkserver")
        context.set_forkserver_preload([*_PRELOAD, *_WIRE_PRELOAD])
        return context
    return multiprocessing.get_context("spawn")


def start_server(*, wire: bool = True) -> None:
    """Start the fork server now, so that its imports overlap the parent's collection.

    :param wire: preload the SDK the wire checks drive as well (a run that certifies a
        runtime); without it, a check that needs the SDK imports it in its own process.
    """
    context = _context()
    if isinstance(context, multiprocessing.context.ForkServerContext):
        from multiprocessing import forkserver  # noqa: PLC0415

        # Only a server not yet running reads this: one already started keeps its imports.
        context.set_forkserver_preload([*_PRELOAD, *(_WIRE_PRELOAD if wire else ())])
        with _main_not_rerun():
            forkserver.ensure_running()


_START_LOCK: Final = threading.Lock()


@contextlib.contextmanager
def _main_not_rerun() -> Iterator[None]:
    """Start a child without it running the parent's ``__main__`` again.

    For ``spawn`` and ``forkserver`` children multiprocessing re-runs the parent's main script
    (as ``__mp_main__``) unless the main module is a package's ``__main__``. The kit's parent is
    whatever runs pytest, and a wrapper script without an ``if __name__ == "__main__"`` guard
    would start a whole pytest run in every check's process; presenting the main module as a
    package's ``__main__`` while a child starts makes multiprocessing skip it.
    """
    main = sys.modules.get("__main__")
    with _START_LOCK:
        if main is None:
            yield
            return
        had = "__spec__" in main.__dict__
        saved = main.__dict__.get("__spec__")
        main.__spec__ = importlib.machinery.ModuleSpec("kora_conformance.__main__", None)
        try:
            yield
        finally:
            if had:
                main.__spec__ = saved
            else:
                del main.__spec__


def _ending(exitcode: int | None) -> str:
    if exitcode is None:
        return "it did not end"
    if exitcode < 0:
        try:
            return f"it was killed by {signal.Signals(-exitcode).name}"
        except ValueError:
            return f"it was killed by signal {-exitcode}"
    return f"it exited with status {exitcode} (os._exit, or a crash)"


def _wait(receiver: Any, timeout: float, stop: threading.Event | None) -> bool:
    """Whether a message (or the child's end) arrived within ``timeout``; ``False`` on stop."""
    deadline = time.monotonic() + timeout
    while True:
        left = deadline - time.monotonic()
        if left <= 0 or (stop is not None and stop.is_set()):
            return False
        if receiver.poll(min(left, _STOP_POLL) if stop is not None else left):
            return True


def run(
    request: Request, timeout: float = DEFAULT_TIMEOUT, stop: threading.Event | None = None
) -> Result:
    """Run ``request`` in a child process and return its result (see the module docstring).

    :param stop: when set while the child runs, the child is killed and a failure returned.
    """
    context: Any = _context()
    receiver, sender = context.Pipe(duplex=False)
    # Not a daemon: multiprocessing refuses children to daemonic processes, which would hide a
    # plugin that starts one from KC-PL-005. run() joins or kills it either way.
    process = context.Process(target=_main, args=(sender, request), daemon=False)
    with _main_not_rerun():
        process.start()
    sender.close()
    result: Result | None = None
    try:
        if not _wait(receiver, timeout, stop):
            process.kill()
            process.join()
            if stop is not None and stop.is_set():
                return Result("failed", expected="the check to run", seen="the run ended first")
            return Result(
                "failed",
                expected=f"the check to finish within its budget of {timeout:g} s (--kora-timeout)",
                seen=f"it was still running after {timeout:g} s; its process was stopped",
            )
        try:
            result = receiver.recv()
        except (EOFError, OSError):
            result = None
    finally:
        receiver.close()
        process.join(5)
        if process.is_alive():
            process.kill()
            process.join()
    if result is None:
        return Result(
            "failed",
            expected="the check's process to report an outcome",
            seen=f"its process ended without one: {_ending(process.exitcode)}",
        )
    return result
