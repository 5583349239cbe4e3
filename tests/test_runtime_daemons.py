"""Daemons through the runtime: plugin contexts, rollback, name clashes, coordinators, compat.

Contract 2.3 (registration and rollback), 2.4 (the fork's import path) and 3.1-3.3 as a plugin
sees them: plugins are real directories loaded by the real loader into a :class:`Runtime`.
"""

from __future__ import annotations

import asyncio
import importlib
import sys
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

import reference_runtime
from reference_runtime import (
    BackgroundDaemonEntry,
    BackgroundDaemonRegistry,
    EventKind,
    PeriodicTaskSpec,
    Runtime,
    RuntimeConfig,
    ShutdownCallable,
    StartupCallable,
    VirtualClock,
    background_daemon_registry,
    compat,
    listener_registry,
)
from reference_runtime._listeners import DaemonListener

REPO_ROOT = Path(__file__).resolve().parents[1]
BUNDLED = REPO_ROOT / "plugins"
EXAMPLE_FIRES = {
    "inbox.poll": 60,
    "digest.compact": 1,
    "telemetry.persist": 12,
    "telemetry.rollup": 1,
}

MakePlugin = Callable[..., Path]


@pytest.fixture(autouse=True)
def fresh_defaults(isolated_imports: None) -> Iterator[None]:
    """Fresh process-default registries and listener singletons, restored after the test."""
    with compat.isolated_defaults():
        yield


def load(root: Path, *enabled: str) -> Runtime:
    runtime = Runtime(RuntimeConfig(enabled=enabled, plugin_dirs=(root,), entry_point_groups=()))
    runtime.load()
    return runtime


def run(runtime: Runtime, seconds: float) -> tuple[int, object]:
    coordinator = runtime.coordinator(clock=VirtualClock())
    status = asyncio.run(coordinator.run(until=seconds))
    return status, coordinator


DAEMON_PLUGIN = """
from reference_runtime import PeriodicTaskSpec

async def start(coordinator=None):
    pass

async def stop():
    pass

def beat():
    pass

ENTRIES = []

def register(ctx):
    ENTRIES.append(
        ctx.register_background_daemon(
            "{name}", start, stop, periodic_task=PeriodicTaskSpec(30, beat, "{name}.beat")
        )
    )
"""


def daemon_plugin(name: str, daemon: str | None = None) -> str:
    return DAEMON_PLUGIN.replace("{name}", daemon or name)


# --- registration through the context ----------------------------------------------------------


def test_register_background_daemon_stamps_the_plugin_and_lands_in_the_runtime(
    make_plugin: MakePlugin, plugins_root: Path
) -> None:
    make_plugin("beats", daemon_plugin("beats", "heart"))

    runtime = load(plugins_root, "beats")

    entry = runtime.daemons.by_name("heart")
    assert entry is not None
    assert entry.plugin_name == "beats"
    assert entry.periodic_task is not None
    assert entry.periodic_task.name == "heart.beat"
    registered = sys.modules["hermes_plugins.beats"].ENTRIES
    assert registered == [entry]
    plugin = runtime.report.plugin("beats")
    assert plugin is not None
    assert plugin.daemons == (entry,)
    assert plugin.listeners == ()
    assert len(background_daemon_registry()) == 0, "the process default stays untouched"


def test_the_same_daemon_registered_twice_by_one_plugin_is_kept_once(
    make_plugin: MakePlugin, plugins_root: Path
) -> None:
    body = daemon_plugin("twice", "heart") + "\n\n_first = register\n\n"
    body += "def register(ctx):\n    _first(ctx)\n    _first(ctx)\n"
    make_plugin("twice", body)

    runtime = load(plugins_root, "twice")

    assert [e.name for e in runtime.daemons.list_entries()] == ["heart"]
    entries = sys.modules["hermes_plugins.twice"].ENTRIES
    assert len(entries) == 2
    assert runtime.daemons.by_name("heart") is entries[0]


FAILS_HALF_WAY = """
from reference_runtime import DaemonListener, PeriodicTaskSpec

class Half(DaemonListener):
    def poll(self):
        pass

async def start(coordinator=None):
    pass

async def stop():
    pass

def register(ctx):
    half = Half.instance()
    ctx.register_background_daemon("half.daemon", start, stop)
    ctx.register_dual_listener(
        "half_dual",
        half,
        periodic_task=PeriodicTaskSpec(60, half.poll, "half.poll"),
        listener_side_tasks=[PeriodicTaskSpec(600, half.poll, "half.poll.slow")],
    )
    ctx.register_listener("half_listener", lambda: (start, stop))
    raise RuntimeError("configuration missing")
"""


def test_a_plugin_failing_after_registering_leaves_nothing_behind_and_the_others_load(
    make_plugin: MakePlugin, plugins_root: Path
) -> None:
    make_plugin("half", FAILS_HALF_WAY)
    make_plugin("beats", daemon_plugin("beats"))

    runtime = load(plugins_root, "half", "beats")

    report = runtime.report
    assert [p.key for p in report.loaded] == ["beats"]
    assert "RuntimeError: configuration missing" in report.errors["half"]
    assert "rolled back" in report.errors["half"]
    assert [e.name for e in runtime.daemons.list_entries()] == ["beats"]
    assert runtime.listeners.names() == []
    assert runtime.listeners.tasks() == []
    status, coordinator = run(runtime, 60)
    assert status == 0
    assert coordinator.fire_counts() == {"beats.beat": 2}  # type: ignore[attr-defined]


CLAIMS_HEART = """
from reference_runtime import PeriodicTaskSpec

async def start(coordinator=None):
    pass

async def stop():
    pass

def register(ctx):
    ctx.register_background_daemon("thief.own", start, stop)
    ctx.register_background_daemon("heart", start, stop)
"""


def test_a_second_plugin_claiming_a_daemon_name_fails_naming_both_owners(
    make_plugin: MakePlugin, plugins_root: Path
) -> None:
    make_plugin("beats", daemon_plugin("beats", "heart"))
    make_plugin("thief", CLAIMS_HEART)

    runtime = load(plugins_root, "beats", "thief")

    report = runtime.report
    assert [p.key for p in report.loaded] == ["beats"]
    error = report.errors["thief"]
    assert "DuplicateDaemonError" in error
    assert "'heart'" in error
    assert "'beats'" in error
    assert "'thief'" in error
    entry = runtime.daemons.by_name("heart")
    assert entry is not None
    assert entry.plugin_name == "beats"
    assert "thief.own" not in runtime.daemons, "registered before the clash, rolled back"


def test_the_same_plugin_loads_into_two_runtimes(plugins_root: Path) -> None:
    first = load(BUNDLED, "listener_example")
    second = load(BUNDLED, "listener_example")

    assert first.report.errors == second.report.errors == {}
    assert first.daemons is not second.daemons
    names = ["inbox", "digest_compactor", "telemetry"]
    assert [e.name for e in first.daemons.list_entries()] == names
    assert [e.name for e in second.daemons.list_entries()] == names
    for a, b in zip(first.daemons.list_entries(), second.daemons.list_entries(), strict=True):
        assert reference_runtime.same_daemon(a, b)
    assert first.listeners.names() == second.listeners.names() == ["inbox", "telemetry"]
    inbox = sys.modules["hermes_plugins.listener_example"].Inbox.instance()
    assert first.listeners.resolve("inbox").startup.__self__ is inbox  # type: ignore[attr-defined]
    assert second.listeners.resolve("inbox").startup.__self__ is inbox  # type: ignore[attr-defined]


def test_register_dual_listener_puts_equal_bound_methods_of_one_instance_on_both_sides() -> None:
    runtime = load(BUNDLED, "listener_example")

    for name in ("inbox", "telemetry"):
        entry = runtime.daemons.by_name(name)
        assert entry is not None
        resolved = runtime.listeners.resolve(name)
        assert resolved.startup == entry.startup
        assert resolved.shutdown == entry.shutdown
        instance = entry.startup.__self__  # type: ignore[attr-defined]
        assert isinstance(instance, DaemonListener)
        assert resolved.startup.__self__ is instance  # type: ignore[attr-defined]
        assert resolved.shutdown.__self__ is instance  # type: ignore[attr-defined]
        assert type(instance).instance() is instance
        assert resolved.shutdown_timeout == entry.shutdown_timeout
    tasks = {t.spec.name: t.listener for t in runtime.listeners.tasks()}
    assert tasks == {
        "inbox.poll": "inbox",
        "telemetry.persist": "telemetry",
        "telemetry.rollup": "telemetry",
    }


LISTENERS = """
async def start(coordinator=None):
    pass

async def stop():
    pass

async def start_v2(coordinator=None):
    pass

KEPT = []

def register(ctx):
    ctx.register_listener("feed", lambda: (start, stop))
    ctx.register_listener("other", lambda: (start, stop, 3.0))
    ctx.register_listener("feed", lambda: (start_v2, stop, 7.0))
    KEPT.append(ctx)
"""


def test_register_listener_replaces_a_name_and_later_registrations_apply_at_once(
    make_plugin: MakePlugin, plugins_root: Path
) -> None:
    make_plugin("feeds", LISTENERS)

    runtime = load(plugins_root, "feeds")

    module = sys.modules["hermes_plugins.feeds"]
    assert runtime.listeners.names() == ["other", "feed"]
    feed = runtime.listeners.resolve("feed")
    assert (feed.startup, feed.shutdown_timeout) == (module.start_v2, 7.0)
    (ctx,) = module.KEPT
    ctx.register_listener("feed", lambda: (module.start, module.stop))
    ctx.register_listener("late", lambda: (module.start, module.stop))
    assert runtime.listeners.names() == ["other", "feed", "late"]
    assert runtime.listeners.resolve("feed").startup is module.start


# --- running ------------------------------------------------------------------------------------


def test_runtime_coordinator_runs_the_example_plugin_in_virtual_time_exactly() -> None:
    runtime = load(BUNDLED, "listener_example")
    inbox = sys.modules["hermes_plugins.listener_example"].Inbox.instance()

    status, coordinator = run(runtime, 3600)

    assert status == 0
    assert coordinator.fire_counts() == EXAMPLE_FIRES  # type: ignore[attr-defined]
    assert inbox.polls == 60
    assert inbox.connected is False
    timeline = coordinator.timeline  # type: ignore[attr-defined]
    started = [e.daemon for e in timeline if e.kind is EventKind.STARTUP_OK]
    stopped = [e.daemon for e in timeline if e.kind is EventKind.SHUTDOWN_OK]
    assert started == ["inbox", "digest_compactor", "telemetry"]
    assert stopped == started[::-1]
    fires = [e for e in timeline if e.kind is EventKind.FIRE_OK and e.task == "inbox.poll"]
    assert [e.at for e in fires] == [60.0 * k for k in range(1, 61)]


def test_runtime_coordinator_passes_options_through() -> None:
    runtime = load(BUNDLED, "listener_example")

    coordinator = runtime.coordinator(clock=VirtualClock(), record_fires=False)
    assert asyncio.run(coordinator.run(until=600)) == 0

    assert coordinator.fire_counts()["inbox.poll"] == 10
    assert not any(e.kind is EventKind.FIRE_OK for e in coordinator.timeline)


# --- the fork's import path and the process defaults --------------------------------------------


FORK_STYLE = """
from agent.background_daemon_registry import (
    BackgroundDaemonEntry,
    PeriodicTaskSpec,
    background_daemon_registry,
)

async def start(coordinator=None):
    pass

async def stop():
    pass

def tick():
    pass

ENTRY = BackgroundDaemonEntry(
    "fork.ticker", start, stop, periodic_task=PeriodicTaskSpec(10, tick, "fork.tick")
)
background_daemon_registry().register(ENTRY)

def register(ctx):
    ctx.register_background_daemon(
        ENTRY.name, ENTRY.startup, ENTRY.shutdown, periodic_task=ENTRY.periodic_task
    )
"""


def test_compat_exposes_the_very_same_classes_and_process_default_registry(
    compat_aliases: None,
) -> None:
    module = importlib.import_module("agent.background_daemon_registry")

    assert module.BackgroundDaemonEntry is BackgroundDaemonEntry
    assert module.PeriodicTaskSpec is PeriodicTaskSpec
    assert module.BackgroundDaemonRegistry is BackgroundDaemonRegistry
    assert module.background_daemon_registry is background_daemon_registry
    assert module.background_daemon_registry() is background_daemon_registry()


def test_a_fork_style_daemon_plugin_loads_unmodified(
    make_plugin: MakePlugin, plugins_root: Path
) -> None:
    make_plugin("forked", FORK_STYLE)
    runtime = Runtime(
        RuntimeConfig(enabled=("forked",), plugin_dirs=(plugins_root,), entry_point_groups=()),
        install_compat=True,
    )
    already = compat.is_installed()
    try:
        report = runtime.load()
    finally:
        if not already:
            compat.uninstall()

    assert report.errors == {}
    module = sys.modules["hermes_plugins.forked"]
    assert isinstance(module.ENTRY, BackgroundDaemonEntry)
    assert background_daemon_registry().by_name("fork.ticker") is module.ENTRY
    entry = runtime.daemons.by_name("fork.ticker")
    assert entry is not None
    assert entry.plugin_name == "forked"
    status, coordinator = run(runtime, 30)
    assert status == 0
    assert coordinator.fire_counts() == {"fork.tick": 3}  # type: ignore[attr-defined]


class _Probe(DaemonListener):
    pass


def _noop_shutdown() -> None:
    return None


def _noop(coordinator: object = None) -> None:
    return None


def test_isolated_defaults_gives_fresh_defaults_and_restores_the_previous_ones() -> None:
    registry, listeners, probe = (
        background_daemon_registry(),
        listener_registry(),
        _Probe.instance(),
    )
    registry.register(BackgroundDaemonEntry("outer", _noop, lambda: None))

    with compat.isolated_defaults():
        assert background_daemon_registry() is not registry
        assert len(background_daemon_registry()) == 0
        assert listener_registry() is not listeners
        inner = _Probe.instance()
        assert inner is not probe
        background_daemon_registry().register(BackgroundDaemonEntry("inner", _noop, lambda: None))

    assert background_daemon_registry() is registry
    assert [e.name for e in registry.list_entries()] == ["outer"]
    assert listener_registry() is listeners
    assert _Probe.instance() is probe


def test_isolated_defaults_restores_even_when_the_block_raises() -> None:
    registry, probe = background_daemon_registry(), _Probe.instance()
    seen = []

    def fail_inside() -> None:
        with compat.isolated_defaults():
            seen.append(_Probe.instance())
            msg = "boom"
            raise RuntimeError(msg)

    with pytest.raises(RuntimeError, match="boom"):
        fail_inside()

    assert seen[0] is not probe
    assert background_daemon_registry() is registry
    assert _Probe.instance() is probe


IMPORT_ONLY = """
from agent.background_daemon_registry import (
    BackgroundDaemonEntry,
    PeriodicTaskSpec,
    background_daemon_registry,
)
from reference_runtime import listener_registry

async def start(coordinator=None):
    pass

async def stop():
    pass

def tick():
    pass

def factory():
    return start, stop

# The fork's listeners register at import, with no context at hand.
background_daemon_registry().register(
    BackgroundDaemonEntry("fork.importer", start, stop, periodic_task=PeriodicTaskSpec(10, tick))
)
listener_registry().register("fork_importer", factory)

def register(ctx):
    pass
"""


def test_import_time_registrations_into_the_process_defaults_are_adopted(
    make_plugin: MakePlugin, plugins_root: Path, compat_aliases: None
) -> None:
    make_plugin("importer", IMPORT_ONLY)
    first = load(plugins_root, "importer")
    # A second runtime in the same process: the module is not re-imported, yet it is adopted.
    second = load(plugins_root, "importer")

    for runtime in (first, second):
        assert [e.name for e in runtime.daemons.list_entries()] == ["fork.importer"]
        assert runtime.listeners.names() == ["fork_importer"]
        (plugin,) = runtime.report.loaded
        assert [e.name for e in plugin.daemons] == ["fork.importer"]
        assert plugin.listeners == ("fork_importer",)
    status, coordinator = run(first, 30)
    assert status == 0
    assert coordinator.fire_counts() == {"tick": 3}  # type: ignore[attr-defined]


def test_process_default_entries_of_other_modules_are_not_adopted(
    make_plugin: MakePlugin, plugins_root: Path
) -> None:
    background_daemon_registry().register(
        BackgroundDaemonEntry("someone.else", _noop, _noop_shutdown)
    )
    make_plugin("bystander", "def register(ctx):\n    pass\n")

    runtime = load(plugins_root, "bystander")

    assert runtime.daemons.list_entries() == []


# --- the listener side: name clashes, staging validation, exact rollback -----------------------

LISTENER_X = """
async def start(coordinator=None):
    pass

async def stop():
    pass

def factory():
    return start, stop

def register(ctx):
    ctx.register_listener("x", factory)
{tail}
"""


def test_a_plugin_claiming_another_plugins_listener_name_fails_and_leaves_it_in_place(
    make_plugin: MakePlugin, plugins_root: Path
) -> None:
    make_plugin("pa", LISTENER_X.replace("{tail}", ""))
    make_plugin("pb", LISTENER_X.replace("{tail}", '    raise RuntimeError("late failure")'))
    make_plugin(
        "pc", LISTENER_X.replace("{tail}", '    ctx.register_listener("bad name", factory)')
    )

    runtime = load(plugins_root, "pa", "pb", "pc")

    report = runtime.report
    assert [p.key for p in report.loaded] == ["pa"]
    assert report.loaded[0].listeners == ("x",)
    for thief in ("pb", "pc"):
        error = report.errors[thief]
        assert "DuplicateDaemonError" in error
        assert "listener name 'x'" in error
        assert "'pa'" in error
        assert f"{thief!r}" in error
        assert "rename" in error
    assert runtime.listeners.names() == ["x"]
    assert runtime.listeners.factory("x") is sys.modules["hermes_plugins.pa"].factory


def test_register_listener_validates_the_name_when_it_stages_it() -> None:
    ctx = reference_runtime.PluginContext(reference_runtime.Manifest(name="pb"), Runtime())
    registry_error = None
    try:
        Runtime().listeners.register("bad name", _noop_factory)
    except reference_runtime.DaemonSpecError as exc:
        registry_error = str(exc)
    assert registry_error is not None

    with pytest.raises(reference_runtime.DaemonSpecError) as caught:
        ctx.register_listener("bad name", _noop_factory)

    assert str(caught.value) == registry_error
    assert ctx.listener_names == ()


def _noop_factory() -> tuple[StartupCallable, ShutdownCallable]:
    return _noop, _noop_shutdown


class _Replacing(DaemonListener):
    def poll(self) -> None:
        pass


def test_a_rolled_back_commit_restores_the_listener_and_task_it_replaced() -> None:
    runtime = Runtime()
    original = PeriodicTaskSpec(30, _noop_shutdown, "x.poll")
    runtime.listeners.register("x", _noop_factory)
    runtime.listeners.register_task(original, listener="x")
    ctx = reference_runtime.PluginContext(reference_runtime.Manifest(name="pb"), runtime)
    listener = _Replacing.instance()
    ctx.register_dual_listener(
        "x", listener, periodic_task=PeriodicTaskSpec(60, listener.poll, "x.poll")
    )
    ctx.register_background_daemon("pb.clash", _noop, _noop_shutdown)
    # A different daemon takes the name between staging and commit: the commit fails half-way.
    runtime.daemons.register(BackgroundDaemonEntry("pb.clash", _noop, _noop_shutdown))

    with pytest.raises(reference_runtime.DuplicateDaemonError):
        ctx.commit()

    assert runtime.listeners.names() == ["x"]
    assert runtime.listeners.factory("x") is _noop_factory
    assert [(t.spec, t.listener) for t in runtime.listeners.tasks()] == [(original, "x")]
    assert [e.name for e in runtime.daemons.list_entries()] == ["pb.clash"]


POLLING_LISTENER = """
from reference_runtime import DaemonListener, PeriodicTaskSpec

class Poller(DaemonListener):
    pass

def poll():
    FIRED.append(1)

FIRED = []
KEPT = []

def register(ctx):
    KEPT.append(ctx)
    ctx.register_dual_listener(
        "{listener}", Poller.instance(), listener_side_tasks=[PeriodicTaskSpec(60, poll)]
    )
{tail}
"""


def polling_listener(listener: str, tail: str = "") -> str:
    return POLLING_LISTENER.replace("{listener}", listener).replace("{tail}", tail)


def test_a_listener_task_name_taken_by_another_plugin_is_refused_and_both_keep_running(
    make_plugin: MakePlugin, plugins_root: Path
) -> None:
    make_plugin("pa", polling_listener("pa_listener"))
    make_plugin("pb", polling_listener("pb_listener"))

    runtime = load(plugins_root, "pa", "pb")

    report = runtime.report
    assert [p.key for p in report.loaded] == ["pa"]
    error = report.errors["pb"]
    assert "DuplicateDaemonError" in error
    assert "task 'poll'" in error
    assert "'pa'" in error
    assert "'pb'" in error
    assert "'pa_listener'" in error
    assert "'pb_listener'" in error
    assert "PeriodicTaskSpec(" in error
    assert [(t.spec.name, t.listener) for t in runtime.listeners.tasks()] == [
        ("poll", "pa_listener")
    ]
    assert "pb_listener" not in runtime.daemons
    status, coordinator = run(runtime, 120)
    assert status == 0
    assert coordinator.fire_counts() == {"poll": 2}  # type: ignore[attr-defined]
    assert sys.modules["hermes_plugins.pa"].FIRED == [1, 1]


def test_two_listeners_of_one_plugin_sharing_a_task_name_are_refused(
    make_plugin: MakePlugin, plugins_root: Path
) -> None:
    second = (
        "    ctx.register_dual_listener(\n"
        '        "second", Poller.instance(), listener_side_tasks=[PeriodicTaskSpec(30, poll)]\n'
        "    )"
    )
    make_plugin("pa", polling_listener("first", second))

    runtime = load(plugins_root, "pa")

    error = runtime.report.errors["pa"]
    assert "task 'poll'" in error
    assert "'first'" in error
    assert "'second'" in error
    assert runtime.listeners.names() == []
    assert runtime.listeners.tasks() == []


def test_a_plugin_re_registering_its_own_listener_name_replaces_it(
    make_plugin: MakePlugin, plugins_root: Path
) -> None:
    make_plugin("pa", polling_listener("first"))

    runtime = load(plugins_root, "pa")
    module = sys.modules["hermes_plugins.pa"]
    (ctx,) = module.KEPT
    ctx.register_listener("first", _noop_factory)
    ctx.register_dual_listener(
        "first", module.Poller.instance(), listener_side_tasks=[PeriodicTaskSpec(60, module.poll)]
    )

    assert runtime.report.errors == {}
    assert runtime.listeners.names() == ["first"]
    assert runtime.listeners.factory("first") is _noop_factory
    assert [(t.spec.name, t.listener) for t in runtime.listeners.tasks()] == [("poll", "first")]


def test_register_plugin_registers_a_loaded_plugin_again_and_rolls_a_clash_back(
    make_plugin: MakePlugin, plugins_root: Path
) -> None:
    make_plugin("beats", daemon_plugin("beats", "heart"))
    runtime = load(plugins_root, "beats")
    plugin = runtime.report.plugin("beats")
    assert plugin is not None
    assert plugin.module is not None

    context = runtime.register_plugin(plugin.manifest, plugin.module.register, plugin.module)

    assert context.name == "beats"
    assert [e.name for e in runtime.daemons.list_entries()] == ["heart"]
    assert len(sys.modules["hermes_plugins.beats"].ENTRIES) == 2

    make_plugin("thief", CLAIMS_HEART)
    thief = load(plugins_root, "thief").report.plugin("thief")
    assert thief is not None
    assert thief.module is not None
    with pytest.raises(reference_runtime.DuplicateDaemonError):
        runtime.register_plugin(thief.manifest, thief.module.register, thief.module)
    assert "thief.own" not in runtime.daemons, "the failed commit is rolled back"
