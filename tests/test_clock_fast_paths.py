"""The virtual clock's fast paths keep its behaviour: sleepers sharing a deadline (kept together),
and periodic drivers awaiting the clock's sleeper directly unless ``sleep`` is overridden."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from reference_runtime import BackgroundDaemonEntry, Coordinator, PeriodicTaskSpec, VirtualClock


def test_a_deadline_with_some_cancelled_sleepers_still_wakes_the_others() -> None:
    clock = VirtualClock()
    woken: list[str] = []

    async def sleeper(name: str, seconds: float) -> None:
        await clock.sleep(seconds)
        woken.append(f"{name}@{clock.now():g}")

    async def main() -> None:
        tasks = {n: asyncio.create_task(sleeper(n, 10)) for n in ("a", "b", "c")}
        later = asyncio.create_task(sleeper("later", 20))
        await asyncio.sleep(0)
        tasks["a"].cancel()
        tasks["c"].cancel()
        await asyncio.gather(*tasks.values(), later, return_exceptions=True)

    asyncio.run(main())
    assert woken == ["b@10", "later@20"]
    assert clock.pending == 0


def test_a_deadline_whose_sleepers_were_all_cancelled_does_not_move_time() -> None:
    clock = VirtualClock()

    async def main() -> None:
        doomed = [asyncio.create_task(clock.sleep(100)) for _ in range(3)]
        await asyncio.sleep(0)
        for task in doomed:
            task.cancel()
        await asyncio.gather(*doomed, return_exceptions=True)
        await clock.sleep(7)

    asyncio.run(main())
    assert clock.now() == 7.0


async def _start(coordinator: Any = None) -> None:
    pass


async def _stop() -> None:
    pass


def _run_one_task(clock: VirtualClock) -> dict[str, int]:
    entry = BackgroundDaemonEntry(
        "d", _start, _stop, periodic_task=PeriodicTaskSpec(60, lambda: None, "tick")
    )
    coordinator = Coordinator([entry], clock=clock, handle_signals=False)
    assert asyncio.run(coordinator.run(until=180)) == 0
    return coordinator.fire_counts()


@pytest.mark.parametrize("where", ["class", "instance"])
def test_drivers_sleep_through_an_overridden_sleep(where: str) -> None:
    seen: list[float] = []

    class Recording(VirtualClock):
        async def sleep(self, seconds: float) -> None:
            seen.append(seconds)
            await super().sleep(seconds)

    if where == "class":
        clock: VirtualClock = Recording()
    else:
        clock = VirtualClock()
        plain = clock.sleep

        async def recording(seconds: float) -> None:
            seen.append(seconds)
            await plain(seconds)

        clock.sleep = recording  # type: ignore[method-assign]

    assert _run_one_task(clock) == {"tick": 3}
    assert seen.count(60) == 4  # three fires, and the sleep the driver was cancelled in
