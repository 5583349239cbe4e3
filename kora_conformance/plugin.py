"""The pytest plugin (``pytest11`` entry point): inert unless ``--kora-conformance`` is given.

It imports nothing but pytest at start-up; the certification machinery loads only when asked.
"""

from __future__ import annotations

import pytest

__all__ = ["pytest_addoption", "pytest_configure"]

#: The fixtures for authors' own tests, in every run (they import the runtime only when used).
pytest_plugins = ["kora_conformance._fixtures"]


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("kora-conformance", "Kora plugin contract certification")
    group.addoption(
        "--kora-conformance",
        action="store_true",
        help="certify plugins against the Kora plugin contract instead of running the tests",
    )
    group.addoption(
        "--kora-selftest",
        action="store_true",
        help="certify every shipped mutant and fail unless each check catches its own",
    )
    group.addoption(
        "--kora-plugin",
        action="append",
        default=[],
        metavar="TARGET",
        help="a plugin directory, a project directory with a plugin entry point, or an installed "
        "plugin's entry-point name; repeatable (default: the current directory)",
    )
    group.addoption(
        "--kora-runtime",
        action="append",
        default=[],
        metavar="MODULE:FACTORY",
        help="certify a runtime through the adapter this factory returns; repeatable (default: "
        "the reference runtime, when no plugin is named or found)",
    )
    group.addoption(
        "--kora-report", metavar="PATH", help="write the JSON certification report to PATH"
    )
    group.addoption(
        "--kora-summary",
        metavar="PATH",
        help="write a Markdown summary (for a CI job summary page) to PATH",
    )
    group.addoption(
        "--kora-badge", metavar="PATH", help="write a shields.io endpoint badge JSON to PATH"
    )
    group.addoption(
        "--kora-gate",
        choices=("must", "all"),
        default="must",
        help="which failures fail the run: MUST checks only (default), or SHOULD checks too",
    )
    group.addoption(
        "--kora-max-examples",
        type=int,
        default=50,
        metavar="N",
        help="examples per property-based check (default 50)",
    )
    group.addoption(
        "--kora-seed",
        type=int,
        default=None,
        metavar="SEED",
        help="seed for property-based checks, to replay a run (default: random, reported)",
    )


@pytest.hookimpl(tryfirst=True)
def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers", "kora_check(id, level): the Kora conformance check an item runs"
    )
    if config.getoption("kora_selftest", default=False):
        from ._selftest import start_selftest  # noqa: PLC0415
        from ._suites import suites_dir  # noqa: PLC0415

        start_selftest(config, suites_dir())
    elif config.getoption("kora_conformance", default=False):
        from ._session import start  # noqa: PLC0415

        start(config)
