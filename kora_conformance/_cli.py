"""``kora-conformance``: certification for people who do not think in pytest flags.

``check`` runs exactly what ``pytest --kora-conformance`` runs (in this process, through
``pytest.main``), ``list`` prints the catalog and ``explain`` one check, offline, from the
installed package. Exit statuses are pytest's: 0 conformant, 1 not conformant or incomplete,
2 interrupted, 4 usage error.
"""

from __future__ import annotations

import argparse
import sys
import textwrap
from collections.abc import Sequence

from kora_conformance.ecosystem import cli as ecosystem
from kora_conformance.model._catalog import CATALOG, by_id
from kora_conformance.model._rationale import RATIONALE

__all__ = ["main"]

# kora-conformance check option → the pytest option it stands for.
_PASSED_ON = {
    "runtime": "--kora-runtime",
    "report": "--kora-report",
    "summary": "--kora-summary",
    "badge": "--kora-badge",
    "gate": "--kora-gate",
    "seed": "--kora-seed",
    "max_examples": "--kora-max-examples",
}


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="kora-conformance",
        description="Certify Hermes/Kora plugins and runtimes against the Kora plugin contract.",
    )
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    check = commands.add_parser(
        "check",
        help="certify plugins (default: the current directory) or runtimes",
        description="Certify each TARGET: a plugin directory, a project with a plugin entry "
        "point, or an installed plugin's entry-point name. Arguments after -- go to pytest "
        "(for example -- -n 2 -v).",
    )
    check.add_argument("targets", nargs="*", metavar="TARGET")
    check.add_argument("--runtime", action="append", default=[], metavar="MODULE:FACTORY")
    check.add_argument("--report", metavar="PATH", help="write the JSON report to PATH")
    check.add_argument("--summary", metavar="PATH", help="write a Markdown summary to PATH")
    check.add_argument("--badge", metavar="PATH", help="write a shields.io badge JSON to PATH")
    check.add_argument("--gate", choices=("must", "all"), help="what fails the run")
    check.add_argument("--seed", type=int, help="replay property-based checks with this seed")
    check.add_argument("--max-examples", type=int, metavar="N")
    commands.add_parser("list", help="print the check catalog")
    explain = commands.add_parser("explain", help="explain one check: rule, why, fix, example")
    explain.add_argument("check_id", metavar="ID", help="a check ID such as KC-ID-003")
    ecosystem.add_commands(commands)
    return parser


def _pytest_args(options: argparse.Namespace, extra: Sequence[str]) -> list[str]:
    args = ["--kora-conformance", "-p", "no:cacheprovider"]
    for target in options.targets:
        args += ["--kora-plugin", target]
    for dest, flag in _PASSED_ON.items():
        value = getattr(options, dest)
        for item in value if isinstance(value, list) else [value]:
            if item is not None:
                args += [flag, str(item)]
    return [*args, *extra]


def _list() -> str:
    lines = [f"{'ID':<10} {'level':<6} {'scope':<7} title"]
    lines += [f"{c.id:<10} {c.level:<6} {c.scope:<7} {c.title}" for c in CATALOG]
    return "\n".join(lines)


def _wrap(label: str, text: str) -> list[str]:
    return textwrap.wrap(text, width=96, initial_indent=f"{label:<9}", subsequent_indent=" " * 9)


def explain(check_id: str) -> str:
    """The explanation of one check, as ``kora-conformance explain`` prints it.

    :raises KeyError: ``check_id`` is not in the catalog.
    """
    from kora_conformance.mutants._table import MUTANTS  # noqa: PLC0415 - only explain needs the mutant table

    check = by_id(check_id.upper())
    lines = [f"{check.id}: {check.title} ({check.level}, applies to a {check.scope})", ""]
    lines += _wrap("Rule:", check.rule)
    lines += _wrap("Why:", RATIONALE[check.id])
    lines += _wrap("Fix:", check.fix)
    examples = [m for m in MUTANTS if m.check_id == check.id]
    if examples:
        lines.append("")
        lines.append("Example: the kit ships plugins that break this check on purpose:")
        lines += [f"  {m.path}: {m.description}" for m in examples]
    return "\n".join(lines)


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; returns the exit status."""
    args = list(sys.argv[1:] if argv is None else argv)
    extra: list[str] = []
    if "--" in args:
        at = args.index("--")
        args, extra = args[:at], args[at + 1 :]
    options = _parser().parse_args(args)
    if options.command in ecosystem.COMMANDS:
        return ecosystem.run(options)
    if options.command == "list":
        print(_list())
        return 0
    if options.command == "explain":
        try:
            print(explain(options.check_id))
        except KeyError:
            print(
                f"kora-conformance: no check {options.check_id!r}; "
                "`kora-conformance list` prints the catalog",
                file=sys.stderr,
            )
            return 4
        return 0
    import pytest  # noqa: PLC0415 - list and explain need no pytest

    return int(pytest.main(_pytest_args(options, extra)))


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
