"""The fixtures plugin authors use in their own tests (see :mod:`kora_conformance.testing`).

The kit's pytest plugin registers this module in every run. It imports nothing but pytest: the
runtime, the SDK and hypothesis load when a test first asks for one of these fixtures.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

if TYPE_CHECKING:
    from kora_conformance.testing import Companions, PluginHost

__all__ = [
    "kora_companions",
    "kora_plugin",
    "kora_plugin_source",
    "kora_runtime",
    "pytest_collectreport",
]

#: Added to a collection error caused by importing a fork-style plugin at a test module's top.
AGENT_HINT = (
    "The fork's agent.* import paths exist only while a kora fixture (kora_plugin, "
    "kora_runtime) is active, so a plugin that imports them cannot be imported at the top of a "
    "test module. Reach the plugin through kora_plugin.module, or import it inside the test."
)


def pytest_collectreport(report: pytest.CollectReport) -> None:
    """Explain a test module that failed to import because ``agent`` was missing."""
    if report.failed and "No module named 'agent'" in str(report.longrepr):
        report.sections.append(("kora_conformance", AGENT_HINT))


@pytest.fixture
def kora_plugin_source(request: pytest.FixtureRequest) -> str | os.PathLike[str]:
    """Where the plugin under test comes from: the first ``--kora-plugin`` value, else the
    rootdir. Override it in ``conftest.py`` to return a plugin directory, a project directory
    or an installed plugin's entry-point name."""
    values: list[str] = request.config.getoption("kora_plugin", default=None) or []
    return values[0] if values else request.config.rootpath


@pytest.fixture
def kora_runtime(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[PluginHost]:
    """A fresh, isolated reference runtime for this test; everything it changed is undone
    afterwards. In a test that also uses ``kora_plugin`` it is that host; otherwise it has no
    plugin under test, only the companions added through ``kora_companions``."""
    if "kora_plugin" in request.fixturenames:
        yield request.getfixturevalue("kora_plugin")
        return
    from kora_conformance.testing import PluginHost, isolation  # noqa: PLC0415 - only when a test asks

    home = tmp_path_factory.mktemp("kora-home")
    scratch = tmp_path_factory.mktemp("kora-scratch")
    with isolation(home, scratch=scratch):
        host = PluginHost(home=home, scratch=scratch)
        try:
            yield host
        finally:
            host.close()


@pytest.fixture
def kora_plugin(
    request: pytest.FixtureRequest,
    tmp_path_factory: pytest.TempPathFactory,
    kora_plugin_source: str | os.PathLike[str],
) -> Iterator[PluginHost]:
    """The ``kora_runtime`` host with the plugin under test enabled (``kora_plugin_source``),
    loaded at its first use; ``kora_plugin.report`` is the load report."""
    from kora_conformance.testing import PluginHost, isolation, resolve_plugin  # noqa: PLC0415

    target = resolve_plugin(kora_plugin_source, Path(request.config.invocation_params.dir))
    home = tmp_path_factory.mktemp("kora-home")
    scratch = tmp_path_factory.mktemp("kora-scratch")
    with isolation(home, target=target, scratch=scratch):
        host = PluginHost(home=home, scratch=scratch, target=target)
        try:
            yield host
        finally:
            host.close()


@pytest.fixture
def kora_companions(kora_runtime: PluginHost) -> Companions:
    """Companion plugins for this test's host (the ``kora_plugin`` host when the test uses
    it); add them before the host's first call."""
    return kora_runtime.companions
