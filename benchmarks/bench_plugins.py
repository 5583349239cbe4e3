"""The plugins the figures measure, generated as directory plugins (manifest and package)."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path


def write_plugin(root: Path, name: str, source: str, hooks: Sequence[str] = ()) -> Path:
    """A directory plugin ``root/name`` with a manifest and ``__init__.py``."""
    directory = root / name
    directory.mkdir(parents=True)
    listed = ", ".join(hooks)
    (directory / "plugin.yaml").write_text(
        f"name: {name}\nversion: '0.1.0'\ndescription: generated for a benchmark\n"
        f"hooks: [{listed}]\n",
        encoding="utf-8",
    )
    (directory / "__init__.py").write_text(source, encoding="utf-8")
    return directory


IDENTITY_PROVIDER = '''\
"""An identity provider that {verb}."""

from reference_runtime import IdentitySpec

SPEC = IdentitySpec(
    "{name} persona", "You are {name}.", {{"agent_name": "{name}", "plugin_name": "{name}"}}
)


def provider(**kwargs):
    return {result}


def register(ctx):
    ctx.register_identity_provider(provider)
'''

HOOK_PLUGIN = '''\
"""A plugin with one observer hook, as most plugins are."""


def on_session_start(**kwargs):
    return None


def register(ctx):
    ctx.register_hook("on_session_start", on_session_start)
'''

LISTENER_PLUGIN = '''\
"""Listeners in the contract's three shapes, every interval a multiple of {interval} s."""

from reference_runtime import DaemonListener, PeriodicTaskSpec


class Inbox(DaemonListener):
    def __init__(self):
        self.connected = False
        self.polls = 0

    async def startup(self, coordinator=None):
        self.connected = True

    async def shutdown(self):
        self.connected = False

    async def poll(self):
        if self.connected:
            self.polls += 1


class Telemetry(DaemonListener):
    def __init__(self):
        self.persisted = 0
        self.rollups = 0

    def persist(self):
        self.persisted += 1

    def rollup(self):
        self.rollups += 1


async def _start_nothing(coordinator=None):
    pass


async def _stop_nothing():
    pass


def compact():
    pass


def register(ctx):
    inbox = Inbox.instance()
    ctx.register_dual_listener(
        "inbox", inbox, periodic_task=PeriodicTaskSpec({interval}, inbox.poll, "inbox.poll")
    )
    ctx.register_background_daemon(
        "compactor",
        _start_nothing,
        _stop_nothing,
        periodic_task=PeriodicTaskSpec({interval} * 60, compact, "compactor.compact"),
    )
    telemetry = Telemetry.instance()
    ctx.register_dual_listener(
        "telemetry",
        telemetry,
        periodic_task=PeriodicTaskSpec({interval} * 5, telemetry.persist, "telemetry.persist"),
        listener_side_tasks=[
            PeriodicTaskSpec({interval} * 60, telemetry.rollup, "telemetry.rollup")
        ],
    )
'''

CERTIFIABLE_PLUGIN = '''\
"""A generated plugin with an identity provider and a polling listener."""

from reference_runtime import DaemonListener, IdentitySpec, PeriodicTaskSpec

SPEC = IdentitySpec(
    "{name} persona", "You are {name}.", {{"agent_name": "{name}", "plugin_name": "{name}"}}
)


def provider(**kwargs):
    return SPEC


class Poller(DaemonListener):
    def __init__(self):
        self.polls = 0

    async def startup(self, coordinator=None):
        pass

    async def shutdown(self):
        pass

    def poll(self):
        self.polls += 1


def register(ctx):
    ctx.register_identity_provider(provider)
    poller = Poller.instance()
    ctx.register_dual_listener(
        "{name}_poller", poller, periodic_task=PeriodicTaskSpec(60, poller.poll, "{name}.poll")
    )
'''


def write_identity_plugins(root: Path, count: int, prefix: str) -> list[str]:
    """``count`` identity providers; all decline but the last, which claims."""
    names = [f"{prefix}{i:04d}" for i in range(count)]
    for i, name in enumerate(names):
        claims = i == count - 1
        source = IDENTITY_PROVIDER.format(
            name=name, verb="claims" if claims else "declines", result="SPEC" if claims else "None"
        )
        write_plugin(root, name, source, ["pre_agent_identity_set"])
    return names


def write_hook_plugins(root: Path, count: int) -> None:
    """``count`` plugins registering one observer hook each."""
    for i in range(count):
        write_plugin(root, f"gen{i:05d}", HOOK_PLUGIN, ["on_session_start"])


def write_listener_plugin(root: Path, name: str, interval: float) -> Path:
    """The three listener shapes with intervals of ``interval``, 5x and 60x that."""
    return write_plugin(root, name, LISTENER_PLUGIN.format(interval=interval))


def write_certifiable_plugins(root: Path, count: int) -> list[Path]:
    """``count`` plugins that certify clean, each with an identity provider and a listener."""
    return [
        write_plugin(
            root,
            f"cert{i:02d}",
            CERTIFIABLE_PLUGIN.format(name=f"cert{i:02d}"),
            ["pre_agent_identity_set"],
        )
        for i in range(count)
    ]
