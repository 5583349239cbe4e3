"""The pytest plugin (``pytest11`` entry point): inert unless ``--kora-conformance`` is given.

It imports nothing but pytest at start-up; the certification machinery loads only when asked.

A certification run does not depend on the project it is invoked from: in conformance (and
self-test) mode no ``conftest.py`` is imported, the ``addopts`` of the ini file and of
``PYTEST_ADDOPTS`` are dropped (with any plugin they loaded through ``-p``), and pytest's cache
is not written, so nothing lands in the working directory. What the command line
itself says (``-v``, ``-n``, ``--junitxml``, ``-k``, explicit ``-p``) still applies.
"""

from __future__ import annotations

import pytest

__all__ = [
    "pytest_addoption",
    "pytest_configure",
    "pytest_load_initial_conftests",
    "pytest_sessionstart",
]

#: The fixtures for authors' own tests, in every run (they import the runtime only when used).
pytest_plugins = ["kora_conformance.run._fixtures"]


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
        help="examples per property-based check, 1 to 10000 (default 50)",
    )
    group.addoption(
        "--kora-timeout",
        type=float,
        default=120.0,
        metavar="SECONDS",
        help="how long one check may run before its process is stopped and the check fails "
        "(default 120)",
    )
    group.addoption(
        "--kora-seed",
        type=int,
        default=None,
        metavar="SEED",
        help="seed for property-based checks, to replay a run (default: random, reported)",
    )


def _kit_mode(namespace: object) -> bool:
    return bool(
        getattr(namespace, "kora_conformance", False) or getattr(namespace, "kora_selftest", False)
    )


@pytest.hookimpl(tryfirst=True)
def pytest_load_initial_conftests(
    early_config: pytest.Config, parser: pytest.Parser, args: list[str]
) -> None:
    """Detach a certification run from the invoking project's pytest setup.

    This hook runs after pytest has merged ``addopts`` into ``args`` but before it imports any
    conftest and before the final parse of ``args``, which is the last point where that setup
    can still be undone.
    """
    namespace = early_config.known_args_namespace
    if not _kit_mode(namespace):
        return
    namespace.noconftest = True
    own = list(early_config.invocation_params.args)
    mine = parser.parse_known_args(own).plugins or []
    for given in namespace.plugins or []:
        # A plugin only the project's addopts asked for ("-p name") is taken out again; a
        # "-p no:name" there has already blocked its plugin, which the docs say.
        name = given.strip()
        if name not in mine and not name.startswith("no:") and name != "kora_conformance":
            plugin = early_config.pluginmanager.get_plugin(name)
            if plugin is not None:
                early_config.pluginmanager.unregister(plugin)
    args[:] = own


def pytest_sessionstart(session: pytest.Session) -> None:
    """In kit mode, keep pytest's cache from writing ``.pytest_cache`` into the project.

    The cache plugin's last-failed and new-first recorders are what write it at the end of a
    run; without them ``--lf``/``--nf`` select nothing, so a certification always runs whole.
    """
    if not _kit_mode(session.config.option):
        return
    for name in ("lfplugin", "nfplugin"):
        recorder = session.config.pluginmanager.get_plugin(name)
        if recorder is not None:
            session.config.pluginmanager.unregister(recorder)


@pytest.hookimpl(tryfirst=True)
def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers", "kora_check(id, level): the Kora conformance check an item runs"
    )
    if config.getoption("kora_selftest", default=False):
        from kora_conformance.model._suites import suites_dir  # noqa: PLC0415
        from kora_conformance.run._selftest import start_selftest  # noqa: PLC0415

        start_selftest(config, suites_dir())
    elif config.getoption("kora_conformance", default=False):
        from kora_conformance.run._session import start  # noqa: PLC0415

        start(config)
