"""Operator commands: ``python -m reference_runtime identity|...``."""

from __future__ import annotations

import argparse
import asyncio
import json
import logging
import math
import sys
from collections.abc import Sequence
from pathlib import Path

from ._clock import VirtualClock
from ._config import RuntimeConfig, load_config
from ._coordinator import Coordinator, TimelineEvent
from ._errors import KoraError
from ._runtime import Runtime

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
    from ._manifest import quote  # noqa: PLC0415

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


def _daemons(args: argparse.Namespace) -> int:
    seconds = args.virtual_seconds
    if seconds is not None and not (math.isfinite(seconds) and seconds >= 0):
        # Checked before loading: NaN and infinity used to get past a `< 0` test and crash.
        print(
            f"error: --virtual-seconds must be a finite number >= 0, got {seconds!r}",
            file=sys.stderr,
        )
        return 2
    runtime = _runtime(args)
    report = runtime.load()
    for name, message in report.errors.items():
        print(f"load error: {name}: {message}", file=sys.stderr)
    if args.virtual_seconds is not None:
        coordinator: Coordinator = runtime.coordinator(clock=VirtualClock(wall_clock=True))
        status = asyncio.run(coordinator.run(until=args.virtual_seconds))
    else:
        coordinator = runtime.coordinator()
        status = asyncio.run(coordinator.run())
    if args.json:
        payload = {
            "exit_status": status,
            "virtual_seconds": args.virtual_seconds,
            "daemons": [entry.name for entry in runtime.daemons.list_entries()],
            "listeners": runtime.listeners.names(),
            "fire_counts": coordinator.fire_counts(),
            "timeline": [event.as_dict() for event in coordinator.timeline],
            "load_errors": dict(report.errors),
        }
        print(json.dumps(payload, indent=2))
        return status
    for event in coordinator.timeline:
        print(_describe_event(event))
    counts = ", ".join(f"{task}={n}" for task, n in coordinator.fire_counts().items())
    print(f"fires: {counts or 'none'}; exit status {status}")
    return status


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
        "daemons", help="load the plugins, run their daemons and print the timeline"
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
    try:
        status: int = args.handler(args)
    except KoraError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    return status
