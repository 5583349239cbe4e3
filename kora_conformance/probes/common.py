"""What the probe plugins share with the runtime checks: texts, names, timings, recorders.

Plain standard library (no runtime import), so a fork's runtime can load the probes. The checks
read the same constants to know what each probe claims and which daemons it registers.
"""

from __future__ import annotations

import asyncio
import dataclasses
from collections.abc import Callable
from typing import Any, Final

from kora_conformance.probes import journal

__all__ = [
    "FATAL_DAEMONS",
    "HANG_REAL_SECONDS",
    "HANG_TIMEOUT",
    "IDENTITIES",
    "INTERVAL",
    "LIFECYCLE_DAEMONS",
    "RUN_SECONDS",
    "SESSION_HOOK",
    "Identity",
    "failing_startup",
    "hook_recorder",
    "identity_recorder",
    "recorder",
]


@dataclasses.dataclass(frozen=True)
class Identity:
    """What an identity probe claims (fields in ``IdentitySpec`` order)."""

    persona: str
    system_prompt: str

    def metadata(self, plugin: str) -> dict[str, str]:
        return {"agent_name": plugin.removeprefix("probe_").capitalize(), "plugin_name": plugin}


#: Probe plugin → the identity it claims (valid probes; the bad ones never claim).
IDENTITIES: Final[dict[str, Identity]] = {
    "probe_zulu": Identity(
        "Zulu persona: terse and cheerful (kora-conformance probe).",
        "You are Zulu, a kora-conformance probe identity.",
    ),
    "probe_alpha": Identity("", "You are Alpha, a kora-conformance probe identity."),
    # Claimed only if the runtime fails to roll back the half-registered plugin (KC-RT-005).
    "probe_half_register": Identity("", "You are Half, a plugin that failed to register."),
}

#: The plain Hermes hook the probes register to show their registrations are live.
SESSION_HOOK: Final = "on_session_start"

#: Seconds of (virtual) time the lifecycle probes run for, and their periodic interval: each
#: periodic task fires ``int(RUN_SECONDS // INTERVAL)`` times (never at once, never at the end).
RUN_SECONDS: Final = 3.5
INTERVAL: Final = 1.0
#: The hanging daemon's shutdown timeout; longer than the interval, so periodic drivers left
#: running during the shutdown would fire.
HANG_TIMEOUT: Final = 2.5
#: How long (real seconds) the hanging shutdown waits before giving up by itself, so a
#: coordinator that never bounds it still finishes, late.
HANG_REAL_SECONDS: Final = 10.0

#: probe_dm_lifecycle's daemons, in registration order (deliberately not alphabetical).
LIFECYCLE_DAEMONS: Final = (
    "kc_probe.rec_c",  # recorder with a periodic task
    "kc_probe.nonfatal",  # startup raises, not fatal
    "kc_probe.rec_a",  # recorder with a periodic task
    "kc_probe.hang",  # slow async startup; its shutdown hangs past its timeout
)
#: probe_dm_fatal's daemons, in registration order.
FATAL_DAEMONS: Final = (
    "kc_probe.fatal_b",  # recorder with a periodic task
    "kc_probe.fatal_a",  # recorder with a periodic task
    "kc_probe.fatal",  # startup raises, fatal
    "kc_probe.fatal_never",  # recorder: must never start
)


def identity_recorder(plugin: str, result: Callable[[], Any]) -> Callable[..., Any]:
    """An identity provider that journals each call (with its ``engine``) and returns
    ``result()``."""

    def provider(*, engine: Any = None, **kwargs: Any) -> Any:
        journal.record("identity", plugin, engine=engine, keywords=tuple(sorted(kwargs)))
        return result()

    provider.__qualname__ = f"{plugin}_identity_provider"
    return provider


def hook_recorder(plugin: str) -> Callable[..., str]:
    """A ``SESSION_HOOK`` callback that journals its call and returns the plugin's name."""

    def on_session_start(**kwargs: Any) -> str:
        journal.record("hook", plugin, keywords=tuple(sorted(kwargs)))
        return plugin

    return on_session_start


def recorder(
    name: str,
) -> tuple[Callable[..., None], Callable[[], None], Callable[[], None]]:
    """``(startup, shutdown, periodic callback)`` for a daemon that journals each call."""

    def startup(coordinator: object = None) -> None:
        journal.record("startup", name)
        journal.record("startup_done", name)

    def shutdown() -> None:
        journal.record("shutdown", name)

    def fire() -> None:
        journal.record("fire", name)

    return startup, shutdown, fire


def failing_startup(name: str) -> Callable[..., None]:
    """A startup that journals its call and raises."""

    def startup(coordinator: object = None) -> None:
        journal.record("startup", name)
        msg = f"{name}: deliberate startup failure (kora-conformance probe)"
        raise RuntimeError(msg)

    return startup


async def slow_startup(name: str) -> None:
    """Journal, yield to the event loop for a moment of real time, journal again.

    On a virtual clock, a driver started too early fires meanwhile: the loop looks idle.
    """
    journal.record("startup", name)
    await asyncio.sleep(0.01)
    journal.record("startup_done", name)


async def hanging_shutdown(name: str) -> None:
    """Journal, then hang for :data:`HANG_REAL_SECONDS` unless cancelled first."""
    journal.record("shutdown", name)
    try:
        await asyncio.sleep(HANG_REAL_SECONDS)
    except asyncio.CancelledError:
        journal.record("shutdown_cancelled", name)
        raise
    journal.record("shutdown_released", name)
