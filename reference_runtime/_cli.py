"""Operator commands: ``python -m reference_runtime identity|...``."""

from __future__ import annotations

import argparse
import contextlib
import json
import logging
import math
import os
import sys
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import NoReturn, TextIO

from ._clock import DEFAULT_EPOCH, VirtualClock
from ._config import RuntimeConfig, load_config
from ._errors import KoraError
from ._runtime import Runtime
from ._timeline import (
    EXIT_FATAL,
    EXIT_INTERRUPTED,
    EXIT_OK,
    EventKind,
    TimelineEvent,
)

__all__ = ["main"]


def _names(values: Sequence[str] | None) -> tuple[str, ...]:
    return tuple(n.strip() for v in values or () for n in v.split(",") if n.strip())


def _add_runtime_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--plugins-dir",
        action="append",
        type=Path,
        default=[],
        metavar="DIR",
        help="a directory of plugin directories; repeatable, a later one shadows an earlier one",
    )
    parser.add_argument(
        "--enable",
        action="append",
        metavar="NAME[,NAME...]",
        help="plugins to load, in precedence order (replaces the config file's list)",
    )
    parser.add_argument(
        "--disable", action="append", metavar="NAME[,NAME...]", help="plugins never to load"
    )
    parser.add_argument(
        "--config", type=Path, metavar="FILE", help="a YAML file with a plugins: section"
    )
    parser.add_argument("--json", action="store_true", help="print one JSON object")


def _runtime(args: argparse.Namespace) -> Runtime:
    base = load_config(args.config) if args.config else RuntimeConfig()
    enabled = _names(args.enable) if args.enable else base.enabled
    config = RuntimeConfig(
        enabled=enabled,
        disabled=base.disabled | frozenset(_names(args.disable)),
        plugin_dirs=(*base.plugin_dirs, *args.plugins_dir),
        system_prompt_path=getattr(args, "system_prompt_path", None) or base.system_prompt_path,
    )
    return Runtime(config, install_compat=True)


def _identity(args: argparse.Namespace) -> int:
    # Plugin-supplied values (metadata) are printed through a bounded repr: an identity plugin
    # cannot make this command print a traceback or megabytes. (Imported here to keep this
    # change inside the command.)
    from ._errors import quote  # noqa: PLC0415

    runtime = _runtime(args)
    report = runtime.load()
    resolved = runtime.resolve_identity()
    if args.json:
        payload = {**resolved.as_dict(), "load_errors": dict(report.errors)}
        print(json.dumps(payload, indent=2, sort_keys=False, default=quote))
        return 0
    print(resolved.describe())
    metadata = dict(resolved.spec.identity_metadata)
    if metadata:
        print("metadata: " + ", ".join(f"{k}={quote(v)}" for k, v in metadata.items()))
    print(f"persona: {len(resolved.spec.soul_md_content)} chars")
    first_line = (resolved.spec.system_prompt_content.strip().splitlines() or [""])[0]
    print(f"system prompt: {first_line}")
    for name, message in report.errors.items():
        print(f"load error: {name}: {message}")
    for warning in report.warnings:
        print(f"load warning: {warning}")
    for shadow in report.shadowed:
        print(f"shadowed: {shadow.describe()}")
    return 0


def _describe_event(event: TimelineEvent) -> str:
    parts = [f"{event.at:>10.3f}s", f"{event.kind.value:<18}", event.daemon]
    if event.task:
        parts.append(event.task)
    if event.detail:
        parts.append(f"({event.detail})")
    if event.fatal:
        parts.append("[fatal]")
    return " ".join(part for part in parts if part)


#: Usage errors: bad arguments, or a configuration that cannot be read.
EXIT_USAGE = 2
_DAEMONS_EPILOG = f"""\
exit status: {EXIT_OK} the run went as asked (in real time, a SIGTERM, SIGINT or SIGHUP once the
startups are done is how it is asked to stop); {EXIT_FATAL} a fatal startup failure, or a plugin's
SystemExit, KeyboardInterrupt or GeneratorExit (never the status the plugin asked for);
{EXIT_USAGE} a usage error; {EXIT_INTERRUPTED} a signal arrived while daemons were still starting.
"""
_FIRES = (EventKind.FIRE_OK, EventKind.FIRE_FAILED)


def _virtual_seconds_problem(seconds: float | None) -> str | None:
    if seconds is None:
        return None
    if not (math.isfinite(seconds) and seconds >= 0):
        # NaN and infinity used to get past a `< 0` test and crash.
        return f"--virtual-seconds must be a finite number >= 0, got {seconds!r}"
    horizon = VirtualClock(wall_clock=True).horizon
    if seconds > horizon:
        # Past it, the virtual wall clock (a datetime) would overflow in the middle of the run.
        return (
            f"--virtual-seconds must be at most {horizon:.0f}, got {seconds!r}: the virtual "
            f"wall clock starts at {DEFAULT_EPOCH:%Y-%m-%d} and cannot pass the year 9999"
        )
    return None


class _Output:
    """The daemons command's report, written as the run goes, so memory does not grow with the
    fires. Human: one line per event, then the fire counts. ``--json``: one JSON object whose
    ``timeline`` is written event by event; ``fire_counts`` and ``exit_status`` come last.

    Lines are flushed at every event but fires (so a reader sees each startup and shutdown at
    once); a closed stdout (a reader that went away) silently ends the output, not the run.
    """

    def __init__(self, stream: TextIO, *, as_json: bool) -> None:
        self._stream = stream
        self._json = as_json
        self._events = 0
        self._closed = False

    def _write(self, text: str, *, flush: bool = True) -> None:
        if self._closed:
            return
        try:
            self._stream.write(text)
            if flush:
                self._stream.flush()
        except (OSError, ValueError):  # a broken pipe, or a stream closed under us
            self._closed = True

    def begin(self, header: Mapping[str, object]) -> None:
        if self._json:
            fields = "".join(
                f"  {json.dumps(key)}: {json.dumps(value)},\n" for key, value in header.items()
            )
            self._write("{\n" + fields + '  "timeline": [')

    def event(self, event: TimelineEvent) -> None:
        flush = event.kind not in _FIRES
        if self._json:
            comma = "," if self._events else ""
            self._write(f"{comma}\n    {json.dumps(event.as_dict())}", flush=flush)
        else:
            self._write(_describe_event(event) + "\n", flush=flush)
        self._events += 1

    def end(self, status: int, fire_counts: Mapping[str, int]) -> None:
        if self._json:
            close = "\n  ]" if self._events else "]"
            self._write(
                f'{close},\n  "fire_counts": {json.dumps(dict(fire_counts))},\n'
                f'  "exit_status": {status}\n}}\n'
            )
            return
        counts = ", ".join(f"{task}={n}" for task, n in fire_counts.items())
        self._write(f"fires: {counts or 'none'}; exit status {status}\n")


def _daemons(args: argparse.Namespace) -> int:
    """Run the daemons; the exit status is the command's (see ``_DAEMONS_EPILOG``), never one a
    plugin chose. As the process's own command, it ends the process itself (``os._exit``) once
    its output is flushed: neither a plugin's non-daemon thread nor a shutdown abandoned on its
    worker thread can then hold up the exit."""
    problem = _virtual_seconds_problem(args.virtual_seconds)
    if problem is not None:
        print(f"error: {problem}", file=sys.stderr)
        return EXIT_USAGE
    runtime = _runtime(args)
    report = runtime.load()
    for name, message in report.errors.items():
        print(f"load error: {name}: {message}", file=sys.stderr)
    output = _Output(sys.stdout, as_json=args.json)
    clock = VirtualClock(wall_clock=True) if args.virtual_seconds is not None else None
    # Signals on a virtual clock too: a virtual run can still wait on real things.
    coordinator = runtime.coordinator(
        clock=clock, on_event=output.event, keep_timeline=False, handle_signals=True
    )
    output.begin(
        {
            "virtual_seconds": args.virtual_seconds,
            "daemons": [entry.name for entry in runtime.daemons.list_entries()],
            "listeners": runtime.listeners.names(),
            "load_errors": dict(report.errors),
        }
    )
    try:
        status = coordinator.run_sync(until=args.virtual_seconds)
    except BaseException as exc:  # noqa: BLE001 - re-raised by the run once all is shut down
        status = coordinator.exit_status or EXIT_FATAL
        print(
            f"error: the run was ended by {type(exc).__name__}: {exc} from plugin code; every "
            f"daemon that had started was shut down (exit status {status}, whatever it asked)",
            file=sys.stderr,
        )
    output.end(status, coordinator.fire_counts())
    if getattr(args, "owns_process", False):
        _end_process(status)
    return status


def _end_process(status: int) -> NoReturn:
    """Flush what was written and end the process now, whatever threads are still running."""
    for stream in (sys.stdout, sys.stderr):
        with contextlib.suppress(OSError, ValueError):
            stream.flush()
    logging.shutdown()
    os._exit(status)


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m reference_runtime",
        description="Operate the Kora reference runtime.",
    )
    commands = parser.add_subparsers(dest="command", required=True)
    identity = commands.add_parser(
        "identity", help="load the plugins and print which identity wins"
    )
    _add_runtime_options(identity)
    identity.add_argument(
        "--system-prompt-path",
        type=Path,
        metavar="PATH",
        help="the fallback system prompt file when no plugin claims",
    )
    identity.set_defaults(handler=_identity)
    daemons = commands.add_parser(
        "daemons",
        help="load the plugins, run their daemons and print the timeline",
        epilog=_DAEMONS_EPILOG,
    )
    _add_runtime_options(daemons)
    daemons.add_argument(
        "--virtual-seconds",
        type=float,
        metavar="N",
        help="run N seconds of virtual time, then shut down (default: real time until a signal)",
    )
    daemons.set_defaults(handler=_daemons)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run an operator command; return the exit status."""
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    args = _parser().parse_args(argv)
    # Run as the program (no argv): the daemons command may end the process itself.
    args.owns_process = argv is None
    try:
        status: int = args.handler(args)
    except KoraError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    return status
