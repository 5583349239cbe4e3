"""The injectable clock: real time on asyncio, and virtual time that jumps when all are idle."""

from __future__ import annotations

import asyncio
import datetime as dt
import math
import time
from typing import Any

import pytest

from reference_runtime import _clock
from reference_runtime._clock import Clock, RealClock, VirtualClock

EPOCH = dt.datetime(2001, 2, 3, 4, 5, 6, tzinfo=dt.timezone.utc)


def test_both_clocks_satisfy_the_protocol() -> None:
    assert isinstance(RealClock(), Clock)
    assert isinstance(VirtualClock(), Clock)


def test_virtual_clock_starts_where_told() -> None:
    assert VirtualClock().now() == 0.0
    assert VirtualClock(start=100.0).now() == 100.0


def test_virtual_sleep_moves_time_by_exactly_the_interval() -> None:
    clock = VirtualClock()

    async def main() -> list[float]:
        seen = []
        for seconds in (86_400, 0.5, 3_600):
            await clock.sleep(seconds)
            seen.append(clock.now())
        return seen

    assert asyncio.run(main()) == [86_400, 86_400.5, 90_000.5]


def test_sleepers_wake_in_deadline_order_and_ties_in_arrival_order() -> None:
    clock = VirtualClock()
    woke: list[tuple[str, float]] = []

    async def sleeper(name: str, seconds: float) -> None:
        await clock.sleep(seconds)
        woke.append((name, clock.now()))

    async def main() -> None:
        await asyncio.gather(
            sleeper("c", 30), sleeper("a", 10), sleeper("b1", 20), sleeper("b2", 20)
        )

    asyncio.run(main())
    assert woke == [("a", 10), ("b1", 20), ("b2", 20), ("c", 30)]


def test_time_does_not_jump_while_other_work_is_ready() -> None:
    clock = VirtualClock()
    seen: list[float] = []

    async def busy() -> None:
        # A long chain of plain yields: the clock must wait for all of it before jumping.
        for _ in range(200):
            await asyncio.sleep(0)
        seen.append(clock.now())

    async def main() -> None:
        await asyncio.gather(clock.sleep(5), busy())

    asyncio.run(main())
    assert seen == [0.0]
    assert clock.now() == 5.0


def test_time_does_not_jump_while_a_chain_of_tasks_hands_work_on() -> None:
    clock = VirtualClock()
    seen: list[float] = []

    async def relay(depth: int) -> None:
        if depth:
            await asyncio.create_task(relay(depth - 1))
        else:
            seen.append(clock.now())

    async def main() -> None:
        await asyncio.gather(clock.sleep(7), relay(50))

    asyncio.run(main())
    assert seen == [0.0]


def test_zero_sleep_waits_until_everything_else_is_idle() -> None:
    clock = VirtualClock()
    order: list[str] = []

    async def worker() -> None:
        for _ in range(10):
            await asyncio.sleep(0)
        order.append("worker done")

    async def main() -> None:
        task = asyncio.create_task(worker())
        await clock.sleep(0)
        order.append("zero sleep returned")
        await task

    asyncio.run(main())
    assert order == ["worker done", "zero sleep returned"]
    assert clock.now() == 0.0


def test_a_cancelled_sleeper_does_not_move_time() -> None:
    clock = VirtualClock()

    async def main() -> None:
        far = asyncio.create_task(clock.sleep(1_000_000))
        await asyncio.sleep(0)
        far.cancel()
        await asyncio.gather(far, return_exceptions=True)
        await clock.sleep(5)

    asyncio.run(main())
    assert clock.now() == 5.0
    assert clock.pending == 0


def test_negative_sleep_counts_as_zero_and_nan_is_rejected() -> None:
    clock = VirtualClock()

    async def main() -> None:
        await clock.sleep(-3)
        with pytest.raises(ValueError, match="NaN"):
            await clock.sleep(math.nan)

    asyncio.run(main())
    assert clock.now() == 0.0


def test_many_sleepers_over_a_virtual_day() -> None:
    clock = VirtualClock()
    fires = 0

    async def every_minute() -> None:
        nonlocal fires
        for _ in range(1_440):
            await clock.sleep(60)
            fires += 1

    async def main() -> None:
        await asyncio.gather(*(every_minute() for _ in range(100)))

    asyncio.run(main())
    assert fires == 144_000
    assert clock.now() == 86_400


def test_clock_can_be_reused_by_a_second_event_loop() -> None:
    clock = VirtualClock()
    asyncio.run(clock.sleep(10))
    asyncio.run(clock.sleep(10))
    assert clock.now() == 20.0


def test_loops_without_a_visible_ready_queue_still_advance(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(_clock, "_ready_queue", lambda loop: None)
    clock = VirtualClock()
    woke: list[float] = []

    async def sleeper(seconds: float) -> None:
        await clock.sleep(seconds)
        woke.append(clock.now())

    async def main() -> None:
        await asyncio.gather(sleeper(3), sleeper(1), sleeper(2))

    asyncio.run(main())
    assert woke == [1, 2, 3]


def test_wall_clock_follows_virtual_time_inside_the_clock() -> None:
    clock = VirtualClock(epoch=EPOCH, wall_clock=True)
    stamps: list[tuple[float, dt.datetime]] = []

    async def main() -> None:
        for _ in range(3):
            await clock.sleep(3_600)
            stamps.append((time.time(), dt.datetime.now(dt.timezone.utc)))

    with clock:
        asyncio.run(main())
    hour = dt.timedelta(hours=1)
    assert [when for _, when in stamps] == [EPOCH + hour, EPOCH + 2 * hour, EPOCH + 3 * hour]
    assert [stamp for stamp, _ in stamps] == [(EPOCH + n * hour).timestamp() for n in (1, 2, 3)]
    assert time.time() > EPOCH.timestamp() + 10 * 365 * 86_400  # real time again


def test_wall_clock_is_real_when_not_requested() -> None:
    clock = VirtualClock(epoch=EPOCH)
    seen: list[float] = []

    async def main() -> None:
        await clock.sleep(3_600)
        seen.append(time.time())

    with clock:
        asyncio.run(main())
    assert seen[0] > EPOCH.timestamp() + 10 * 365 * 86_400


def test_wall_clock_context_nests() -> None:
    clock = VirtualClock(epoch=EPOCH, wall_clock=True)
    with clock:
        with clock:
            assert dt.datetime.now(dt.timezone.utc) == EPOCH
        assert dt.datetime.now(dt.timezone.utc) == EPOCH
    assert dt.datetime.now(dt.timezone.utc) > EPOCH + dt.timedelta(days=3_650)


def test_real_clock_really_sleeps_briefly() -> None:
    clock = RealClock()

    async def main() -> float:
        before = clock.now()
        await clock.sleep(0.02)
        return clock.now() - before

    assert asyncio.run(main()) >= 0.015


# --- limits: a sleep the clock cannot honour fails in the sleeper, never in the loop -----------


def bounded(coroutine: Any, seconds: float = 5.0) -> Any:
    """Run ``coroutine`` with a real-time bound, so a clock that stops waking sleepers fails the
    test instead of hanging it."""
    return asyncio.run(asyncio.wait_for(coroutine, seconds))


def test_the_wall_clock_range_bounds_how_far_a_virtual_clock_can_run() -> None:
    clock = VirtualClock(epoch=EPOCH, wall_clock=True)
    until_the_end = dt.datetime.max.replace(tzinfo=dt.timezone.utc) - EPOCH
    assert clock.horizon == until_the_end // dt.timedelta(seconds=1)  # whole seconds, to be safe
    assert VirtualClock().horizon == math.inf


@pytest.mark.parametrize("seconds", [3e11, 1e300])
def test_a_sleep_past_the_wall_clocks_range_fails_in_the_sleeper(seconds: float) -> None:
    clock = VirtualClock(epoch=EPOCH, wall_clock=True)

    async def main() -> None:
        with pytest.raises(ValueError, match=r"past the virtual wall clock's range"):
            await clock.sleep(seconds)
        await clock.sleep(60)  # the clock still works afterwards

    with clock:
        bounded(main())
    assert clock.now() == 60.0


def test_a_sleep_too_short_to_move_a_huge_now_is_refused() -> None:
    clock = VirtualClock(start=1e300)

    async def main() -> None:
        with pytest.raises(ValueError, match="too short to move"):
            await clock.sleep(60)

    bounded(main())


def test_a_failure_while_jumping_reaches_the_sleepers_instead_of_stranding_them() -> None:
    clock = VirtualClock()

    class Broken:
        def move_to(self, target: dt.datetime) -> None:
            msg = "the frozen clock refused"
            raise OverflowError(msg)

    async def main() -> None:
        clock._frozen = Broken()
        with pytest.raises(OverflowError, match="refused"):
            await clock.sleep(10)

    bounded(main())


def test_time_stands_still_while_the_clock_is_paused() -> None:
    clock = VirtualClock()
    woke: list[float] = []

    async def sleeper() -> None:
        await clock.sleep(10)
        woke.append(clock.now())

    async def main() -> None:
        task = asyncio.create_task(sleeper())
        with clock.paused():
            await asyncio.sleep(0.02)  # real time passes, virtual time must not
            assert woke == []
            assert clock.now() == 0.0
        await task

    bounded(main())
    assert woke == [10.0]
