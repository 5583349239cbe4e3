"""What the checks, and the authors' fixtures, drive a plugin with.

Public and documented, so that a third party's suite is written with the same tools as the
kit's own: a plugin's daemons run in virtual time under the reference coordinator with a
wall-clock watchdog (:func:`virtual_run`), both daemon registries read back
(:func:`registered_alone`, :func:`register_again`), a plugin's modules reloaded
(:func:`reload_or_fail`), a Messages API request captured on a faked wire
(:func:`send_captured`), callbacks compared as the same work (:func:`same_bound`), and a
minimal distribution written so entry points are discoverable (:func:`write_distribution`).
"""

from __future__ import annotations

from kora_conformance._distribution import (
    write_distribution,
)
from kora_conformance.harness._callables import (
    CallbackKey,
    bound_to_instance,
    callback_key,
    describe_bound,
    same_bound,
)
from kora_conformance.harness._registrations import (
    Lifecycle,
    Names,
    Registered,
    default_names,
    describe_names,
    lifecycles,
    names_in,
    register_again,
    registered_alone,
    shape_changes,
    shapes_in,
)
from kora_conformance.harness._reload import (
    describe_changes,
    load_after_reload,
    plugin_modules,
    registrations,
    reload_modules,
    reload_or_fail,
)
from kora_conformance.harness._virtual_run import (
    AGAIN,
    CYCLES,
    FIRE_BUDGET,
    IDLE_RUN,
    RECORDED_FIRE_BUDGET,
    RECORDED_WALL_PER_FIRE,
    STARTUP_FORMS,
    STARTUP_WAIT,
    WALL_PER_FIRE,
    Driver,
    SpawnedTaskError,
    VirtualRun,
    call_startups,
    drivers_of,
    fire_count,
    horizon_for,
    recorded_horizon,
    virtual_run,
)
from kora_conformance.harness._watchdog import (
    WALL_BUDGET,
    Overran,
    Watch,
    run_and_close,
    wall_seconds,
    watchdog,
)
from kora_conformance.harness._wire import (
    PROBE_MESSAGE,
    Sent,
    messages_reply,
    send_captured,
    system_texts,
)

__all__ = [
    "AGAIN",
    "CYCLES",
    "FIRE_BUDGET",
    "IDLE_RUN",
    "PROBE_MESSAGE",
    "RECORDED_FIRE_BUDGET",
    "RECORDED_WALL_PER_FIRE",
    "STARTUP_FORMS",
    "STARTUP_WAIT",
    "WALL_BUDGET",
    "WALL_PER_FIRE",
    "CallbackKey",
    "Driver",
    "Lifecycle",
    "Names",
    "Overran",
    "Registered",
    "Sent",
    "SpawnedTaskError",
    "VirtualRun",
    "Watch",
    "bound_to_instance",
    "call_startups",
    "callback_key",
    "default_names",
    "describe_bound",
    "describe_changes",
    "describe_names",
    "drivers_of",
    "fire_count",
    "horizon_for",
    "lifecycles",
    "load_after_reload",
    "messages_reply",
    "names_in",
    "plugin_modules",
    "recorded_horizon",
    "register_again",
    "registered_alone",
    "registrations",
    "reload_modules",
    "reload_or_fail",
    "run_and_close",
    "same_bound",
    "send_captured",
    "shape_changes",
    "shapes_in",
    "system_texts",
    "virtual_run",
    "wall_seconds",
    "watchdog",
    "write_distribution",
]
