"""Figures 2, 4 and 5: what runs in this process (identity dispatch, virtual-time scheduling,
the listener checks). Each function takes a :class:`~bench_core.Scale` and returns its rows."""

from __future__ import annotations

import asyncio
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from bench_core import Figure, Scale, median_alternating
from bench_plugins import write_identity_plugins, write_listener_plugin

# --- 2. identity dispatch -----------------------------------------------------------------------


def _raw_identity_hook(count: int, claim: object) -> Callable[..., Any]:
    """A bare pluggy ``firstresult`` hook with ``count`` implementations; the winner runs last."""
    import pluggy

    spec = pluggy.HookspecMarker("bench")
    impl = pluggy.HookimplMarker("bench")

    class Specs:
        @spec(firstresult=True)
        def pre_agent_identity_set(self, engine: object) -> object: ...

    def declines(engine: object) -> object:
        return None

    def claims(engine: object) -> object:
        return claim

    manager = pluggy.PluginManager("bench")
    manager.add_hookspecs(Specs)
    # pluggy calls the last registered first: register the winner first so that it runs last.
    for i in range(count):
        plugin = type(f"Provider{i}", (), {})()
        function = claims if i == 0 else declines
        plugin.pre_agent_identity_set = impl(specname="pre_agent_identity_set")(function)
        manager.register(plugin, name=f"provider{i}")
    return manager.hook.pre_agent_identity_set


def _per_call(function: Callable[[], object], number: int) -> Callable[[], float]:
    def run() -> float:
        start = time.process_time()
        for _ in range(number):
            function()
        return (time.process_time() - start) / number

    return run


def _calls_per_batch(function: Callable[[], object], seconds: float) -> int:
    once = _per_call(function, 10)()
    return max(10, int(seconds / max(once, 1e-9)))


def identity_dispatch(scale: Scale) -> list[Figure]:
    """``Runtime.resolve_identity`` over a raw pluggy hook call, N providers, the winner last."""
    from reference_runtime import Runtime, RuntimeConfig

    figures: list[Figure] = []
    with tempfile.TemporaryDirectory() as tmp:
        for count in scale.dispatch_providers:
            root = Path(tmp) / f"n{count}"
            names = write_identity_plugins(root, count, prefix=f"bench_id{count}_")
            config = RuntimeConfig(enabled=tuple(names), plugin_dirs=(root,), entry_point_groups=())
            runtime = Runtime(config)
            engine = object()
            try:
                resolved = runtime.resolve_identity(engine=engine)
                assert resolved.plugin == names[-1], resolved
                winner = runtime.report.plugin(names[-1])
                assert winner is not None
                claim = {"identity": winner.module.SPEC}  # type: ignore[union-attr]
                hook = _raw_identity_hook(count, claim)
                assert hook(engine=engine) is claim

                def ours(runtime: Any = runtime, engine: object = engine) -> object:
                    return runtime.resolve_identity(engine=engine)

                def raw(hook: Callable[..., Any] = hook, engine: object = engine) -> object:
                    return hook(engine=engine)

                number = _calls_per_batch(ours, scale.dispatch_batch)
                base, mine = median_alternating(
                    scale.dispatch_rounds, _per_call(raw, number), _per_call(ours, number)
                )
            finally:
                for name in names:
                    sys.modules.pop(f"hermes_plugins.{name}", None)
            ratio = mine / base
            figures.append(
                Figure(
                    f"2 resolve_identity / raw pluggy, N={count}",
                    base,
                    mine,
                    ratio,
                    "info",
                    None,
                    note=f"CPU time per call, median of {scale.dispatch_rounds} alternating "
                    "batches (the retired target: 1.3)",
                )
            )
    return figures


# --- 4. virtual-time scheduling -----------------------------------------------------------------


def _noop() -> None:
    pass


async def _start(coordinator: object = None) -> None:
    pass


async def _stop() -> None:
    pass


def _coordinated(daemons: int, seconds: float) -> Callable[[], float]:
    from reference_runtime import BackgroundDaemonEntry, Coordinator, PeriodicTaskSpec, VirtualClock

    def run() -> float:
        entries = [
            BackgroundDaemonEntry(
                f"daemon{i}", _start, _stop, periodic_task=PeriodicTaskSpec(60, _noop, f"task{i}")
            )
            for i in range(daemons)
        ]
        coordinator = Coordinator(
            entries, clock=VirtualClock(), record_fires=False, handle_signals=False
        )
        start = time.process_time()
        status = asyncio.run(coordinator.run(until=seconds))
        elapsed = time.process_time() - start
        fires = sum(coordinator.fire_counts().values())
        assert status == 0
        assert fires == daemons * int(seconds // 60), fires
        return elapsed

    return run


def _bare_loop(daemons: int, seconds: float) -> Callable[[], float]:
    fires = int(seconds // 60)

    async def one() -> None:
        for _ in range(fires):
            await asyncio.sleep(0)  # one suspension and resumption through the loop per fire
            _noop()

    async def main() -> None:
        await asyncio.gather(*(one() for _ in range(daemons)))

    def run() -> float:
        start = time.process_time()
        asyncio.run(main())
        return time.process_time() - start

    return run


def scheduling(scale: Scale) -> list[Figure]:
    """Daemons at 60-second intervals in virtual time over a bare loop making as many wake-ups."""
    seconds = scale.virtual_hours * 3600
    fires = scale.daemons * int(seconds // 60)
    base, ours = median_alternating(
        scale.scheduling_rounds,
        _bare_loop(scale.daemons, seconds),
        _coordinated(scale.daemons, seconds),
    )
    ratio = ours / base
    return [
        Figure(
            f"4 {scale.daemons:,} daemons x {scale.virtual_hours:g} virtual h / bare asyncio",
            base,
            ours,
            ratio,
            "<= 2",
            ratio <= 2,
            note=f"CPU time; {fires:,} fires, {ours / fires * 1e6:.2f} us each; floor: "
            "await asyncio.sleep(0) and a no-op call per fire",
        )
    ]


# --- 5. interval independence -------------------------------------------------------------------


def _listener_checks(plugin: Path) -> Callable[[], float]:
    """Running every KC-DM check on ``plugin`` the way the kit does, one sandbox per check."""
    from kora_conformance.isolation._child import learn_profile
    from kora_conformance.isolation._sandbox import sandbox
    from kora_conformance.model._check import CheckContext, KitOptions
    from kora_conformance.model._suites import implementations
    from kora_conformance.model._targets import resolve_targets

    (target,), _ = resolve_targets([str(plugin)], plugin.parent)
    profile = learn_profile(target)
    checks = [impl for check_id, impl in implementations().items() if check_id.startswith("KC-DM")]
    assert checks
    for impl in checks:
        assert impl.applies(profile) is None, (impl.check.id, impl.applies(profile))

    def run() -> float:
        start = time.perf_counter()
        for impl in checks:
            with sandbox() as box, target.installed(box.scratch):
                impl.function(CheckContext(impl.check, target, box, profile, KitOptions()))
        return time.perf_counter() - start

    return run


def interval_independence(scale: Scale) -> list[Figure]:
    """The listener checks' wall time with intervals of 86,400 s over intervals of 1 s."""
    with tempfile.TemporaryDirectory() as tmp:
        short = _listener_checks(write_listener_plugin(Path(tmp), "bench_listeners_1s", 1))
        long = _listener_checks(write_listener_plugin(Path(tmp), "bench_listeners_1d", 86_400))
        short()  # the first run imports what the checks need
        base, ours = median_alternating(scale.interval_rounds, short, long)
    ratio = ours / base
    return [
        Figure(
            "5 KC-DM checks, 86,400 s / 1 s intervals",
            base,
            ours,
            ratio,
            "1/1.1..1.1",
            1 / 1.1 <= ratio <= 1.1,
            note=f"median of {scale.interval_rounds} alternating in-process runs of the 7 checks",
        )
    ]
