"""Whether a plugin failed to load only because the Hermes host is not installed.

Many published plugins import upstream Hermes's own modules (``agent``, ``gateway``,
``hermes_cli``, ``tools``, ...), which ship in the ``hermes-agent`` distribution and nowhere
else. Without it such a plugin cannot even be imported, and that says nothing about the plugin:
the kit gives it the verdict NEEDS HOST (``needs-host`` in JSON), naming the missing module and
the line that installs the host, instead of NOT CONFORMANT.

The decision is made from the load error KC-PL-001 recorded (the reference runtime writes an
import failure as ``ModuleNotFoundError: No module named '<module>'``), so the controller of an
xdist run, which loads nothing itself, reaches the same verdict as its workers.
"""

from __future__ import annotations

import dataclasses
import importlib.metadata
import re
from typing import Final

__all__ = ["HOST_DISTRIBUTION", "HOST_MODULES", "INSTALL_LINE", "HostNeed", "needed_host"]

#: The distribution that provides the host modules.
HOST_DISTRIBUTION: Final = "hermes-agent"

#: What installs the host alongside the kit (the ``hermes`` extra pins a supported range).
INSTALL_LINE: Final = "pip install 'kora-conformance[hermes]'"

#: Top-level modules of ``hermes-agent`` (0.13.0 through 0.19.0) that plugins import.
HOST_MODULES: Final = frozenset(
    {
        "acp_adapter",
        "agent",
        "batch_runner",
        "cli",
        "cron",
        "gateway",
        "hermes_bootstrap",
        "hermes_cli",
        "hermes_constants",
        "hermes_logging",
        "hermes_state",
        "hermes_time",
        "mcp_serve",
        "model_tools",
        "plugins",
        "providers",
        "rl_cli",
        "run_agent",
        "tools",
        "toolset_distributions",
        "toolsets",
        "trajectory_compressor",
        "tui_gateway",
        "utils",
    }
)

_MISSING: Final = re.compile(r"\bModuleNotFoundError: No module named '([\w.]+)'")


@dataclasses.dataclass(frozen=True)
class HostNeed:
    """A host module a plugin imports and the environment lacks.

    :param module: the module the import error named (``gateway``, ``agent.memory_provider``).
    """

    module: str

    def describe(self) -> str:
        """One sentence for a verdict line: what is missing and the line that installs it."""
        return (
            f"it imports {self.module!r}, a module of the Hermes host ({HOST_DISTRIBUTION}), "
            f"which is not installed; install the host with: {INSTALL_LINE}"
        )

    def as_dict(self) -> dict[str, str]:
        return {"module": self.module, "install": INSTALL_LINE}


def host_installed() -> bool:
    """Whether the ``hermes-agent`` distribution is installed in this environment."""
    try:
        importlib.metadata.distribution(HOST_DISTRIBUTION)
    except importlib.metadata.PackageNotFoundError:
        return False
    return True


def needed_host(load_error: str, *, host_installed: bool | None = None) -> HostNeed | None:
    """The host module whose absence made the load fail, or ``None`` when the failure is the
    plugin's own.

    :param load_error: what KC-PL-001 saw.
    :param host_installed: whether the host is installed; detected when ``None``. With the host
        installed, a missing host module means the plugin targets another host version, which
        is the plugin's problem to state (``requires_hermes``), not the environment's.
    """
    match = _MISSING.search(load_error)
    if match is None or match.group(1).partition(".")[0] not in HOST_MODULES:
        return None
    installed = _detect() if host_installed is None else host_installed
    return None if installed else HostNeed(match.group(1))


def _detect() -> bool:
    # Looked up through the module so tests (and a session) can stand in for the environment.
    return host_installed()
