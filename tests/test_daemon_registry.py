"""PeriodicTaskSpec, BackgroundDaemonEntry and BackgroundDaemonRegistry (contract 3.1)."""

from __future__ import annotations

import dataclasses
import importlib
import math
import threading
from fractions import Fraction
from pathlib import Path

import pytest

from reference_runtime._daemons import (
    BackgroundDaemonEntry,
    BackgroundDaemonRegistry,
    PeriodicTaskSpec,
    background_daemon_registry,
    same_daemon,
)
from reference_runtime._errors import DaemonSpecError, DuplicateDaemonError


async def _startup(coordinator: object = None) -> None:
    return None


async def _shutdown() -> None:
    return None


def _tick() -> None:
    return None


def _tock() -> None:
    return None


def _entry(name: str = "d", **changes: object) -> BackgroundDaemonEntry:
    fields: dict[str, object] = {"startup": _startup, "shutdown": _shutdown}
    fields.update(changes)
    return BackgroundDaemonEntry(name, **fields)  # type: ignore[arg-type]


# --- PeriodicTaskSpec -------------------------------------------------------------------------


def test_periodic_task_name_defaults_to_callback_qualname() -> None:
    assert PeriodicTaskSpec(60, _tick).name == "_tick"
    assert PeriodicTaskSpec(60, _tick, name="tick.every_minute").name == "tick.every_minute"


def test_periodic_task_interval_is_stored_as_float() -> None:
    spec = PeriodicTaskSpec(Fraction(1, 2), _tick)
    assert spec.interval_seconds == 0.5
    assert type(spec.interval_seconds) is float


@pytest.mark.parametrize(
    ("interval", "expected"),
    [
        (0, "> 0"),
        (-1.5, "> 0"),
        (math.nan, "finite"),
        (math.inf, "finite"),
        ("60", "number"),
        (None, "number"),
        (True, "bool"),
    ],
)
def test_periodic_task_rejects_bad_interval(interval: object, expected: str) -> None:
    with pytest.raises(DaemonSpecError, match=expected) as caught:
        PeriodicTaskSpec(interval, _tick)  # type: ignore[arg-type]
    assert caught.value.field == "interval_seconds"
    assert "interval_seconds=" in str(caught.value)  # the fix is spelled out


def test_periodic_task_rejects_non_callable() -> None:
    with pytest.raises(DaemonSpecError, match="callable") as caught:
        PeriodicTaskSpec(60, "run_cycle")  # type: ignore[arg-type]
    assert caught.value.field == "callback"


def test_periodic_task_rejects_coroutine_object() -> None:
    async def cycle() -> None:
        return None

    with pytest.raises(DaemonSpecError, match=r"coroutine object.*cycle\(\)"):
        PeriodicTaskSpec(60, cycle())  # type: ignore[arg-type]


def test_periodic_task_rejects_callback_needing_arguments() -> None:
    def needs(x: int) -> None:
        return None

    with pytest.raises(DaemonSpecError, match="no arguments"):
        PeriodicTaskSpec(60, needs)  # type: ignore[arg-type]


def test_periodic_task_is_frozen() -> None:
    spec = PeriodicTaskSpec(60, _tick)
    with pytest.raises(dataclasses.FrozenInstanceError):
        spec.interval_seconds = 1  # type: ignore[misc]


# --- BackgroundDaemonEntry --------------------------------------------------------------------


def test_entry_defaults_match_the_contract() -> None:
    entry = _entry()
    assert entry.periodic_task is None
    assert entry.shutdown_timeout == 5.0
    assert entry.plugin_name == ""
    assert entry.fatal_on_startup_failure is False


def test_entry_keeps_the_periodic_task_by_identity() -> None:
    spec = PeriodicTaskSpec(30, _tick)
    assert _entry(periodic_task=spec).periodic_task is spec


def test_entry_is_frozen() -> None:
    with pytest.raises(dataclasses.FrozenInstanceError):
        _entry().name = "other"  # type: ignore[misc]


@pytest.mark.parametrize("name", ["", "has space", "slash/name", "ünïcode", "tab\t"])
def test_entry_rejects_invalid_names(name: str) -> None:
    with pytest.raises(DaemonSpecError, match="name") as caught:
        _entry(name)
    assert caught.value.field == "name"


@pytest.mark.parametrize("name", ["snapshot", "email-inbound.imap", "Probe_2"])
def test_entry_accepts_names_of_letters_digits_and_separators(name: str) -> None:
    assert _entry(name).name == name


def test_entry_rejects_non_string_name() -> None:
    with pytest.raises(DaemonSpecError, match="string"):
        _entry(42)  # type: ignore[arg-type]


def test_entry_rejects_non_callable_startup() -> None:
    with pytest.raises(DaemonSpecError, match="startup must be callable") as caught:
        _entry(startup=None)
    assert caught.value.field == "startup"


def test_entry_rejects_coroutine_object_as_startup() -> None:
    with pytest.raises(DaemonSpecError, match="coroutine object") as caught:
        _entry(startup=_startup())
    assert caught.value.field == "startup"
    assert "not its result" in str(caught.value)


def test_entry_rejects_startup_that_cannot_take_the_coordinator() -> None:
    def startup() -> None:
        return None

    with pytest.raises(DaemonSpecError, match="coordinator"):
        _entry(startup=startup)


def test_entry_rejects_non_callable_shutdown() -> None:
    with pytest.raises(DaemonSpecError) as caught:
        _entry(shutdown="stop")
    assert caught.value.field == "shutdown"


@pytest.mark.parametrize("timeout", [0, -1, math.nan, math.inf, "5", False])
def test_entry_rejects_bad_shutdown_timeout(timeout: object) -> None:
    with pytest.raises(DaemonSpecError) as caught:
        _entry(shutdown_timeout=timeout)
    assert caught.value.field == "shutdown_timeout"


def test_entry_rejects_a_periodic_task_that_is_not_a_spec() -> None:
    with pytest.raises(DaemonSpecError, match="PeriodicTaskSpec") as caught:
        _entry(periodic_task=_tick)
    assert caught.value.field == "periodic_task"


def test_entry_rejects_non_bool_fatal_flag() -> None:
    with pytest.raises(DaemonSpecError) as caught:
        _entry(fatal_on_startup_failure="yes")
    assert caught.value.field == "fatal_on_startup_failure"


# --- BackgroundDaemonRegistry -----------------------------------------------------------------


def test_registry_lists_entries_in_registration_order() -> None:
    registry = BackgroundDaemonRegistry()
    for name in ["c", "a", "b"]:
        registry.register(_entry(name))
    assert [e.name for e in registry.list_entries()] == ["c", "a", "b"]


def test_registry_list_is_a_copy() -> None:
    registry = BackgroundDaemonRegistry()
    registry.register(_entry("a"))
    listed = registry.list_entries()
    listed.clear()
    assert len(registry) == 1
    assert [e.name for e in registry.list_entries()] == ["a"]


def test_registry_by_name_and_contains() -> None:
    registry = BackgroundDaemonRegistry()
    entry = _entry("snapshot")
    assert registry.register(entry) is entry
    assert registry.by_name("snapshot") is entry
    assert registry.by_name("missing") is None
    assert "snapshot" in registry
    assert "missing" not in registry


def test_registry_rejects_something_that_is_not_an_entry() -> None:
    with pytest.raises(DaemonSpecError, match="BackgroundDaemonEntry"):
        BackgroundDaemonRegistry().register(("snapshot", _startup, _shutdown))  # type: ignore[arg-type]


def test_unregister_removes_and_returns_the_entry() -> None:
    registry = BackgroundDaemonRegistry()
    entry = registry.register(_entry("a"))
    registry.register(_entry("b"))
    assert registry.unregister("a") is entry
    assert registry.unregister("a") is None
    assert [e.name for e in registry.list_entries()] == ["b"]


def test_registering_the_same_daemon_again_is_a_no_op() -> None:
    registry = BackgroundDaemonRegistry()
    spec = PeriodicTaskSpec(60, _tick)
    first = registry.register(_entry("a", periodic_task=spec, plugin_name="p"))
    again = _entry("a", periodic_task=PeriodicTaskSpec(60, _tick), plugin_name="p")
    assert registry.register(again) is first
    assert len(registry) == 1


def test_different_daemon_under_a_taken_name_raises_naming_both_owners() -> None:
    registry = BackgroundDaemonRegistry()
    registry.register(_entry("snapshot", plugin_name="kora"))
    other = _entry("snapshot", plugin_name="marvin", periodic_task=PeriodicTaskSpec(5, _tick))
    with pytest.raises(DuplicateDaemonError) as caught:
        registry.register(other)
    error = caught.value
    assert (error.name, error.existing_owner, error.new_owner) == ("snapshot", "kora", "marvin")
    message = str(error)
    assert "'kora'" in message
    assert "'marvin'" in message
    assert "unique" in message  # the fix
    assert registry.by_name("snapshot").plugin_name == "kora"  # type: ignore[union-attr]


def test_duplicate_error_without_plugin_names_says_unknown() -> None:
    registry = BackgroundDaemonRegistry()
    registry.register(_entry("a"))
    with pytest.raises(DuplicateDaemonError, match="<unknown>"):
        registry.register(_entry("a", startup=lambda coordinator: None))


@pytest.mark.parametrize(
    "change",
    [
        {"shutdown": _tick},
        {"periodic_task": PeriodicTaskSpec(60, _tick)},
        {"shutdown_timeout": 9.0},
        {"fatal_on_startup_failure": True},
        {"plugin_name": "other"},
    ],
)
def test_any_difference_makes_a_different_daemon(change: dict[str, object]) -> None:
    base = _entry("a")
    assert same_daemon(base, _entry("a"))
    assert not same_daemon(base, _entry("a", **change))


def test_periodic_task_differences_make_a_different_daemon() -> None:
    base = _entry("a", periodic_task=PeriodicTaskSpec(60, _tick, "t"))
    assert not same_daemon(base, _entry("a", periodic_task=PeriodicTaskSpec(61, _tick, "t")))
    assert not same_daemon(base, _entry("a", periodic_task=PeriodicTaskSpec(60, _tock, "t")))
    assert not same_daemon(base, _entry("a", periodic_task=PeriodicTaskSpec(60, _tick, "u")))


def test_bound_methods_of_one_instance_are_the_same_daemon() -> None:
    class Listener:
        async def startup(self, coordinator: object = None) -> None:
            return None

        async def shutdown(self) -> None:
            return None

    one = Listener()
    first = _entry("a", startup=one.startup, shutdown=one.shutdown)
    assert same_daemon(first, _entry("a", startup=one.startup, shutdown=one.shutdown))


def test_lambdas_only_match_themselves_and_the_error_says_why() -> None:
    registry = BackgroundDaemonRegistry()
    registry.register(_entry("a", startup=lambda coordinator: None))
    with pytest.raises(DuplicateDaemonError, match="module level"):
        registry.register(_entry("a", startup=lambda coordinator: None))


def test_registry_loses_and_doubles_nothing_under_eight_threads() -> None:
    registry = BackgroundDaemonRegistry()
    shared = [_entry(f"shared-{i}", plugin_name="p") for i in range(1_000)]
    barrier = threading.Barrier(8)
    failures: list[BaseException] = []

    def work(thread: int) -> None:
        try:
            barrier.wait()
            for i in range(1_000):
                registry.register(_entry(f"t{thread}-{i}", plugin_name="p"))
                # Every thread also re-registers the same shared daemons: all but one are no-ops.
                registry.register(dataclasses.replace(shared[i]))
        except Exception as exc:  # noqa: BLE001 - reported by the assertion below
            failures.append(exc)

    threads = [threading.Thread(target=work, args=(t,)) for t in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert failures == []
    names = [e.name for e in registry.list_entries()]
    assert len(names) == len(set(names)) == 9_000
    assert set(names) == {f"t{t}-{i}" for t in range(8) for i in range(1_000)} | {
        f"shared-{i}" for i in range(1_000)
    }


def test_process_default_registry_is_one_instance() -> None:
    assert background_daemon_registry() is background_daemon_registry()
    assert isinstance(background_daemon_registry(), BackgroundDaemonRegistry)


# --- importlib.reload of a module that registers at import ---------------------------------

_TARGET = """
from reference_runtime._daemons import BackgroundDaemonRegistry

DAEMONS = BackgroundDaemonRegistry()
RUNS = []
"""

_REGISTERING_MODULE = """
from reference_runtime._daemons import BackgroundDaemonEntry, PeriodicTaskSpec
import kct_reload_target as target

target.RUNS.append(__name__)


async def startup(coordinator=None):
    return None


async def shutdown():
    return None


def compact():
    return None


target.DAEMONS.register(
    BackgroundDaemonEntry(
        "compactor",
        startup,
        shutdown,
        periodic_task=PeriodicTaskSpec(3600, compact, "compactor.compact"),
        plugin_name="example",
    )
)
"""


def test_reloading_a_registering_module_is_a_no_op(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, isolated_imports: None
) -> None:
    monkeypatch.syspath_prepend(str(tmp_path))
    (tmp_path / "kct_reload_target.py").write_text(_TARGET)
    (tmp_path / "kct_reload_registering.py").write_text(_REGISTERING_MODULE)

    module = importlib.import_module("kct_reload_registering")
    target = importlib.import_module("kct_reload_target")
    first = target.DAEMONS.by_name("compactor")
    for _ in range(100):
        module = importlib.reload(module)

    assert len(target.RUNS) == 101  # the module really ran every time
    assert len(target.DAEMONS) == 1
    assert target.DAEMONS.by_name("compactor") is first
