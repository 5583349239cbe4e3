"""The listener registry and the dual-registry shape (contract 3.2)."""

from __future__ import annotations

import asyncio
import importlib
import math
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from reference_runtime._daemons import (
    BackgroundDaemonEntry,
    BackgroundDaemonRegistry,
    PeriodicTaskSpec,
    background_daemon_registry,
)
from reference_runtime._dual import DualRegistration, register_dual_listener
from reference_runtime._errors import DaemonSpecError, DuplicateDaemonError
from reference_runtime._listeners import (
    DEFAULT_LISTENER_SHUTDOWN_TIMEOUT,
    DaemonListener,
    ListenerRegistry,
    listener_registry,
)
from reference_runtime._loading import _import_directory

REPO_ROOT = Path(__file__).resolve().parents[1]


async def _startup(coordinator: object = None) -> None:
    return None


async def _shutdown() -> None:
    return None


def _poll() -> None:
    return None


class Counter(DaemonListener):
    """Counts its lifecycle calls; its state must be one whichever side drives it."""

    def __init__(self) -> None:
        self.connected_by: object = "never"
        self.disconnected_with: object = "never"
        self.polls = 0

    async def startup(self, coordinator: Any = None) -> None:
        self.connected_by = coordinator

    async def shutdown(self) -> None:
        self.disconnected_with = self.connected_by

    def poll(self) -> None:
        self.polls += 1


class Flusher(DaemonListener):
    def flush(self) -> None:
        return None

    def digest(self) -> None:
        return None


# --- ListenerRegistry -------------------------------------------------------------------------


def test_two_tuple_factory_gets_the_default_timeout() -> None:
    registry = ListenerRegistry()
    registry.register("web", lambda: (_startup, _shutdown))
    resolved = registry.resolve("web")
    assert (resolved.name, resolved.startup, resolved.shutdown) == ("web", _startup, _shutdown)
    assert resolved.shutdown_timeout == DEFAULT_LISTENER_SHUTDOWN_TIMEOUT == 10.0


def test_three_tuple_factory_sets_the_timeout() -> None:
    registry = ListenerRegistry()
    registry.register("web", lambda: (_startup, _shutdown, 2.5))
    assert registry.resolve("web").shutdown_timeout == 2.5


def test_registering_a_name_again_replaces_it_and_moves_it_last() -> None:
    registry = ListenerRegistry()
    registry.register("a", lambda: (_startup, _shutdown))
    registry.register("b", lambda: (_startup, _shutdown))
    registry.register("a", lambda: (_startup, _shutdown, 1.0))
    assert registry.names() == ["b", "a"]
    assert len(registry) == 2
    assert registry.resolve("a").shutdown_timeout == 1.0


def test_unregister_removes_a_listener() -> None:
    registry = ListenerRegistry()
    registry.register("a", lambda: (_startup, _shutdown))
    assert "a" in registry
    assert registry.unregister("a") is not None
    assert "a" not in registry
    assert registry.unregister("a") is None


@pytest.mark.parametrize("name", ["", "has space", "dash-name", "dotted.name", "1st"])
def test_listener_names_must_be_identifiers(name: str) -> None:
    with pytest.raises(DaemonSpecError, match="identifier") as caught:
        ListenerRegistry().register(name, lambda: (_startup, _shutdown))
    assert caught.value.field == "name"


def test_listener_factory_must_be_callable() -> None:
    with pytest.raises(DaemonSpecError, match="factory") as caught:
        ListenerRegistry().register("web", (_startup, _shutdown))  # type: ignore[arg-type]
    assert caught.value.field == "factory"


def test_resolving_an_unknown_name_says_which_exist() -> None:
    registry = ListenerRegistry()
    registry.register("web", lambda: (_startup, _shutdown))
    with pytest.raises(KeyError, match="'web'"):
        registry.resolve("mcp")


@pytest.mark.parametrize(
    ("returned", "expected"),
    [
        (None, "tuple"),
        ((_startup,), "2 or 3"),
        ((_startup, _shutdown, 1.0, 2.0), "2 or 3"),
        (("start", _shutdown), "startup must be callable"),
        ((_startup, 42), "shutdown must be callable"),
        ((_startup, _shutdown, 0), "> 0"),
        ((_startup, _shutdown, math.nan), "finite"),
    ],
)
def test_resolve_validates_what_the_factory_returns(returned: object, expected: str) -> None:
    registry = ListenerRegistry()
    registry.register("web", lambda: returned)  # type: ignore[arg-type,return-value]
    with pytest.raises(DaemonSpecError, match=expected):
        registry.resolve("web")


def test_resolve_rejects_a_coroutine_object_from_the_factory() -> None:
    registry = ListenerRegistry()
    registry.register("web", lambda: (_startup(), _shutdown))  # type: ignore[arg-type,return-value]
    with pytest.raises(DaemonSpecError, match="coroutine object"):
        registry.resolve("web")


def test_a_raising_factory_becomes_a_spec_error_with_the_cause() -> None:
    def factory() -> tuple[Any, Any]:
        msg = "no credentials"
        raise RuntimeError(msg)

    registry = ListenerRegistry()
    registry.register("web", factory)
    with pytest.raises(DaemonSpecError, match="no credentials") as caught:
        registry.resolve("web")
    assert isinstance(caught.value.__cause__, RuntimeError)


def test_listener_side_tasks_are_keyed_by_name_and_replaced() -> None:
    registry = ListenerRegistry()
    registry.register_task(PeriodicTaskSpec(30, _poll, "a.poll"), listener="a")
    registry.register_task(PeriodicTaskSpec(60, _poll, "b.poll"))
    registry.register_task(PeriodicTaskSpec(90, _poll, "a.poll"), listener="a")
    assert [(t.spec.name, t.spec.interval_seconds, t.listener) for t in registry.tasks()] == [
        ("b.poll", 60, ""),
        ("a.poll", 90, "a"),
    ]


def test_process_default_listener_registry_is_one_instance() -> None:
    assert listener_registry() is listener_registry()


# --- DaemonListener ---------------------------------------------------------------------------


def test_instance_is_one_per_class() -> None:
    assert Counter.instance() is Counter.instance()
    assert Flusher.instance() is not Counter.instance()


def test_base_lifecycle_is_a_no_op_in_all_three_call_forms() -> None:
    listener = Flusher.instance()

    async def main() -> None:
        await listener.startup()
        await listener.startup(object())
        await listener.startup(coordinator=object())
        await listener.shutdown()

    asyncio.run(main())


def test_a_startup_without_an_optional_coordinator_is_rejected_at_class_creation() -> None:
    with pytest.raises(DaemonSpecError, match="coordinator=None"):

        class Strict(DaemonListener):
            async def startup(self, coordinator: object) -> None:  # type: ignore[override]
                return None


# --- the dual-registry shape ------------------------------------------------------------------


def _dual(name: str = "counter", **kwargs: Any) -> tuple[DualRegistration, Any, Any]:
    daemons, listeners = BackgroundDaemonRegistry(), ListenerRegistry()
    registration = register_dual_listener(
        name, Counter.instance(), daemons=daemons, listeners=listeners, **kwargs
    )
    return registration, daemons, listeners


def test_both_sides_hold_equal_bound_methods_of_one_instance() -> None:
    counter = Counter.instance()
    _, daemons, listeners = _dual(periodic_task=PeriodicTaskSpec(60, counter.poll, "c.poll"))
    entry = daemons.by_name("counter")
    resolved = listeners.resolve("counter")
    assert entry.startup == resolved.startup == counter.startup
    assert entry.shutdown == resolved.shutdown == counter.shutdown
    assert entry.startup.__self__ is resolved.startup.__self__ is counter
    assert entry.shutdown_timeout == resolved.shutdown_timeout


@pytest.mark.parametrize("driver", ["daemon side", "listener side"])
def test_state_set_in_startup_is_seen_in_shutdown_whichever_side_drives(driver: str) -> None:
    counter = Counter.instance()
    _, daemons, listeners = _dual()
    entry = daemons.by_name("counter")
    resolved = listeners.resolve("counter")
    token = object()

    async def main() -> None:
        if driver == "daemon side":
            await entry.startup(token)
            await resolved.shutdown()
        else:
            await resolved.startup(coordinator=token)
            await entry.shutdown()

    asyncio.run(main())
    assert counter.disconnected_with is token


_TOKEN = object()


@pytest.mark.parametrize(
    ("call", "expected"),
    [
        (lambda startup: startup(), None),
        (lambda startup: startup(_TOKEN), _TOKEN),
        (lambda startup: startup(coordinator=_TOKEN), _TOKEN),
    ],
    ids=["no argument", "positional", "keyword"],
)
@pytest.mark.parametrize("side", ["daemon side", "listener side"])
def test_startup_accepts_all_three_call_forms(
    call: Callable[[Any], Any], expected: object, side: str
) -> None:
    counter = Counter.instance()
    counter.connected_by = "never"
    _, daemons, listeners = _dual()
    startup = (
        daemons.by_name("counter").startup
        if side == "daemon side"
        else listeners.resolve("counter").startup
    )
    asyncio.run(call(startup))
    assert counter.connected_by is expected


def test_the_primary_task_is_on_both_sides_and_extra_tasks_only_on_the_listener_side() -> None:
    flusher = Flusher.instance()
    primary = PeriodicTaskSpec(300, flusher.flush, "flusher.flush")
    extra = PeriodicTaskSpec(86_400, flusher.digest, "flusher.digest")
    daemons, listeners = BackgroundDaemonRegistry(), ListenerRegistry()
    registration = register_dual_listener(
        "flusher",
        flusher,
        periodic_task=primary,
        listener_side_tasks=[extra],
        daemons=daemons,
        listeners=listeners,
    )
    assert daemons.by_name("flusher").periodic_task is primary
    assert registration.listener_side_tasks == (extra,)
    assert [(t.spec, t.listener) for t in listeners.tasks()] == [
        (primary, "flusher"),
        (extra, "flusher"),
    ]


def test_registration_stamps_the_plugin_and_passes_settings_through() -> None:
    registration, daemons, _ = _dual(
        plugin_name="example", shutdown_timeout=2.0, fatal_on_startup_failure=True
    )
    entry = daemons.by_name("counter")
    assert registration.entry is entry
    assert (entry.plugin_name, entry.shutdown_timeout, entry.fatal_on_startup_failure) == (
        "example",
        2.0,
        True,
    )


def test_a_fresh_instance_instead_of_the_singleton_is_rejected() -> None:
    with pytest.raises(DaemonSpecError, match=r"Counter\.instance\(\)"):
        DualRegistration("counter", Counter())


def test_something_that_is_not_a_daemon_listener_is_rejected() -> None:
    with pytest.raises(DaemonSpecError, match="DaemonListener"):
        DualRegistration("counter", object())  # type: ignore[arg-type]


@pytest.mark.parametrize("name", ["dash-name", "dotted.name", ""])
def test_dual_names_must_suit_both_registries(name: str) -> None:
    with pytest.raises(DaemonSpecError):
        DualRegistration(name, Counter.instance())


def test_building_a_registration_touches_no_registry() -> None:
    before = (len(background_daemon_registry()), len(listener_registry()))
    DualRegistration("counter", Counter.instance())
    assert (len(background_daemon_registry()), len(listener_registry())) == before


def test_a_name_clash_with_another_plugin_leaves_the_listener_side_alone() -> None:
    daemons, listeners = BackgroundDaemonRegistry(), ListenerRegistry()
    daemons.register(BackgroundDaemonEntry("counter", _startup, _shutdown, plugin_name="other"))
    with pytest.raises(DuplicateDaemonError, match="'other'"):
        register_dual_listener(
            "counter", Counter.instance(), plugin_name="mine", daemons=daemons, listeners=listeners
        )
    assert "counter" not in listeners


def test_registries_default_to_the_process_defaults() -> None:
    name = "kct_process_default_counter"
    try:
        register_dual_listener(name, Counter.instance())
        assert name in background_daemon_registry()
        assert name in listener_registry()
    finally:
        background_daemon_registry().unregister(name)
        listener_registry().unregister(name)


# --- importlib.reload of a dual-registering module ------------------------------------------

_TARGET = """
from reference_runtime._daemons import BackgroundDaemonRegistry
from reference_runtime._listeners import ListenerRegistry

DAEMONS = BackgroundDaemonRegistry()
LISTENERS = ListenerRegistry()
RUNS = []
"""

_DUAL_MODULE = """
from reference_runtime._daemons import PeriodicTaskSpec
from reference_runtime._dual import register_dual_listener
from reference_runtime._listeners import DaemonListener
import kct_dual_target as target

target.RUNS.append(__name__)


class Poller(DaemonListener):
    def __init__(self):
        self.polls = 0

    def poll(self):
        self.polls += 1


poller = Poller.instance()
register_dual_listener(
    "poller",
    poller,
    periodic_task=PeriodicTaskSpec(60, poller.poll, "poller.poll"),
    plugin_name="example",
    daemons=target.DAEMONS,
    listeners=target.LISTENERS,
)
"""


def test_reloading_a_dual_registering_module_keeps_one_entry_per_side(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, isolated_imports: None
) -> None:
    monkeypatch.syspath_prepend(str(tmp_path))
    (tmp_path / "kct_dual_target.py").write_text(_TARGET)
    (tmp_path / "kct_dual_module.py").write_text(_DUAL_MODULE)

    module = importlib.import_module("kct_dual_module")
    target = importlib.import_module("kct_dual_target")
    poller = module.poller
    poller.poll()
    for _ in range(100):
        module = importlib.reload(module)

    assert len(target.RUNS) == 101
    assert len(target.DAEMONS) == 1
    assert target.LISTENERS.names() == ["poller"]
    assert [t.spec.name for t in target.LISTENERS.tasks()] == ["poller.poll"]
    assert module.poller is poller  # one instance for the process: state is not split
    entry = target.DAEMONS.by_name("poller")
    assert entry.startup == target.LISTENERS.resolve("poller").startup == poller.startup
    entry.periodic_task.callback()
    assert poller.polls == 2


# --- the example plugin's three shapes -------------------------------------------------------


class FakeContext:
    """The context methods the example plugin uses, over registries of its own."""

    name = "listener_example"

    def __init__(self) -> None:
        self.daemons = BackgroundDaemonRegistry()
        self.listeners = ListenerRegistry()

    def register_background_daemon(
        self, name: str, startup: Any, shutdown: Any, **options: Any
    ) -> BackgroundDaemonEntry:
        entry = BackgroundDaemonEntry(name, startup, shutdown, plugin_name=self.name, **options)
        return self.daemons.register(entry)

    def register_listener(self, name: str, factory: Any) -> None:
        self.listeners.register(name, factory)

    def register_dual_listener(self, name: str, listener: Any, **options: Any) -> Any:
        return register_dual_listener(
            name,
            listener,
            plugin_name=self.name,
            daemons=self.daemons,
            listeners=self.listeners,
            **options,
        )


@pytest.fixture
def example_ctx(isolated_imports: None) -> FakeContext:
    module = _import_directory("listener_example", REPO_ROOT / "plugins" / "listener_example")
    ctx = FakeContext()
    module.register(ctx)
    return ctx


def test_example_plugin_registers_three_daemons_all_stamped(example_ctx: FakeContext) -> None:
    entries = example_ctx.daemons.list_entries()
    assert [e.name for e in entries] == ["inbox", "digest_compactor", "telemetry"]
    assert {e.plugin_name for e in entries} == {"listener_example"}


def test_example_listener_class_daemon_is_on_both_sides_with_its_task(
    example_ctx: FakeContext,
) -> None:
    entry = example_ctx.daemons.by_name("inbox")
    resolved = example_ctx.listeners.resolve("inbox")
    assert entry.startup == resolved.startup
    assert entry.shutdown == resolved.shutdown
    assert entry.periodic_task is not None


def test_example_pure_periodic_daemon_is_absent_from_the_listener_side(
    example_ctx: FakeContext,
) -> None:
    entry = example_ctx.daemons.by_name("digest_compactor")
    assert entry.periodic_task is not None
    assert "digest_compactor" not in example_ctx.listeners
    assert all(task.spec != entry.periodic_task for task in example_ctx.listeners.tasks())


def test_example_multi_task_entry_carries_only_its_primary_task(
    example_ctx: FakeContext,
) -> None:
    entry = example_ctx.daemons.by_name("telemetry")
    listener_tasks = [t.spec for t in example_ctx.listeners.tasks() if t.listener == "telemetry"]
    assert entry.periodic_task is not None
    assert len(listener_tasks) > 1
    assert entry.periodic_task in listener_tasks
