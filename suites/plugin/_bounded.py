"""Calling a plugin's handlers with a bound on each call.

The contract sets no time limit on a tool handler, a hook or a command: a human-in-the-loop
tool may wait half an hour for a person to press a button, and a host lets it. A check that
calls such a handler must not wait for it at the cost of its own budget (its process is
stopped at ``--kora-timeout``, and the check fails), so every call a check makes through
:class:`BoundedCalls` runs in a worker thread and is waited for :func:`call_bound` seconds at
most. A call still running then is *not judged*: the check says so and goes on with its other
calls. Upstream Hermes runs tool handlers in worker threads as well (parallel tool calls, the
gateway's executor), so a handler is held to nothing a host does not already ask of it.

The worker thread of a call that ran past the bound is left running, as a daemon: the check's
process ends as soon as it has reported (``os._exit``), so the thread neither keeps that
process alive nor reaches any other check, each of which has a process of its own.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Mapping, Sequence
from typing import Any, Final, TypeVar

from kora_conformance import CheckContext
from kora_conformance.suites.plugin._surface_probes import Call, call_for_real

__all__ = ["CALL_BOUND", "BoundedCalls", "call_bound"]

_T = TypeVar("_T")

#: The longest one handler call is waited for, in seconds (less when the check budget is
#: short: see :func:`call_bound`).
CALL_BOUND: Final = 10.0
#: A call is waited for at most this share of the check's budget ...
_SHARE_PER_CALL: Final = 1 / 12
#: ... and all the calls of one check that ran past the bound together at most this share, so
#: that a check with several waiting handlers still ends well within its budget ...
_SHARE_FOR_WAITING: Final = 1 / 2
#: ... and no call is started once this share of the budget has passed since the check started:
#: many calls, each well within the bound, add up too (a plugin with seventy tools).
_SHARE_FOR_CALLS: Final = 0.6


def call_bound(budget: float) -> float:
    """Seconds one call is waited for, in a check whose process may run ``budget`` seconds:
    a twelfth of it, and never more than :data:`CALL_BOUND`."""
    return min(CALL_BOUND, budget * _SHARE_PER_CALL)


class BoundedCalls:
    """The handler calls of one check, each waited for :attr:`bound` seconds at most.

    :param budget: the check's budget in seconds (``KitOptions.timeout``).
    :param clock: seconds from a monotonic clock (replaceable in tests).
    :param started: when the check's process started, on ``clock`` (``CheckContext.started``):
        the share of the budget for calls is counted from then, since loading the plugin and
        drawing arguments spend the same budget (on a loaded machine, tens of seconds). By
        default, from now.
    """

    def __init__(
        self,
        budget: float,
        clock: Callable[[], float] = time.monotonic,
        *,
        started: float | None = None,
    ) -> None:
        self.bound = call_bound(budget)
        self._waiting_left = budget * _SHARE_FOR_WAITING
        self._clock = clock
        self._deadline = (clock() if started is None else started) + budget * _SHARE_FOR_CALLS
        #: One sentence per call that was not judged, in call order.
        self.unjudged: list[str] = []

    @classmethod
    def for_check(cls, ctx: CheckContext) -> BoundedCalls:
        """The calls of the check ``ctx`` runs: its budget, counted from its start."""
        return cls(ctx.options.timeout, started=ctx.started)

    @property
    def _out_of_time(self) -> bool:
        return self._clock() > self._deadline

    @property
    def spent(self) -> bool:
        """Whether this check makes no more calls: it has no time left to wait on another call
        that runs long, or it has used its share of its budget on calls."""
        return self._waiting_left < self.bound or self._out_of_time

    def not_called(self, what: str) -> None:
        """Record that ``what`` was not called, the check being :attr:`spent`."""
        why = (
            "run for 60 % of --kora-timeout"
            if self._out_of_time
            else "waited its share of its budget on calls that ran long"
        )
        self.unjudged.append(f"{what}: not called, and not judged: this check has {why}")

    def call(
        self,
        what: str,
        fn: Callable[..., Any],
        args: Sequence[Any] = (),
        keywords: Mapping[str, Any] | None = None,
        **how: bool,
    ) -> Call | None:
        """:func:`call_for_real` (with ``how``'s options) through :meth:`run`: the call, or
        ``None`` when it was not judged."""
        return self.run(what, lambda: call_for_real(fn, args, keywords, **how))

    def run(self, what: str, work: Callable[[], _T]) -> _T | None:
        """``work()`` (one probe: a call, or the few calls of a differential) in a worker
        thread; what it returned, or ``None`` when it was not judged: still running at the
        bound, or not started because the check's time for waiting is spent. Either way
        :attr:`unjudged` says so, naming ``what`` (``"tool 'search'"``, say). What ``work``
        raised (``SystemExit`` from a handler, say: :func:`call_for_real` catches only
        ``Exception``) is raised here, as if it had run in the check's own thread."""
        if self.spent:
            self.not_called(what)
            return None
        done: list[_T] = []
        stopped: list[BaseException] = []

        def target() -> None:
            try:
                done.append(work())
            except BaseException as exc:  # noqa: BLE001 - raised again in the check's thread
                stopped.append(exc)

        worker = threading.Thread(target=target, name=f"kora-call {what}", daemon=True)
        worker.start()
        worker.join(self.bound)
        if stopped:
            raise stopped[0]
        if done:
            return done[0]
        self._waiting_left -= self.bound
        self.unjudged.append(
            f"{what}: still running after {self.bound:g} s (the kit's bound on one call, "
            "a twelfth of --kora-timeout and at most 10 s), not judged for that call; "
            "the contract sets no time limit on a handler"
        )
        return None
