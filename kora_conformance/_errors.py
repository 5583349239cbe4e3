"""The kit's exception tree.

::

    KitError
    ├── CheckFailed(AssertionError)     a check's rule is broken by the target
    ├── CheckSkipped                    the kit decided a check does not apply
    ├── CheckProcessError(RuntimeError) a check raised, in its own process, something not a verdict
    ├── TargetError(ValueError)         --kora-plugin (or the current directory) names no plugin
    └── NetworkBlocked(ConnectionError) a plugin tried to reach the network inside a check
"""

from __future__ import annotations

__all__ = [
    "CheckFailed",
    "CheckProcessError",
    "CheckSkipped",
    "KitError",
    "NetworkBlocked",
    "TargetError",
]


class KitError(Exception):
    """Root of every error raised by the conformance kit."""


class CheckFailed(KitError, AssertionError):
    """A check found its rule broken.

    :ivar expected: what the rule requires, concretely.
    :ivar seen: what the target did instead.
    :ivar detail: anything that helps to reproduce it (a falsifying example, a log line).
    """

    def __init__(self, expected: str, seen: str, detail: str = "") -> None:
        super().__init__(f"expected {expected}; seen {seen}")
        self.expected = expected
        self.seen = seen
        self.detail = detail


class CheckSkipped(KitError):
    """The kit decided, inside a check, that the check does not apply to this target.

    Only the kit raises it (:meth:`CheckContext.skip`); a pytest skip raised by plugin code is
    not a skip but a failure of the check it happened in.

    :ivar reason: why, for the report.
    """

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


class CheckProcessError(KitError, RuntimeError):
    """A check raised, in its own process, something other than its verdict (a plugin error
    the check did not expect, or a kit bug).

    :ivar error: the exception, as ``Type: message``.
    :ivar detail: its traceback, as the check's process formatted it.
    """

    def __init__(self, error: str, detail: str) -> None:
        super().__init__(error)
        self.error = error
        self.detail = detail


class TargetError(KitError, ValueError):
    """What the user asked to certify cannot be found or is not a plugin."""


class NetworkBlocked(KitError, ConnectionError):
    """A connection attempt made while the kit's network guard was active.

    :ivar address: what the code tried to reach.
    """

    def __init__(self, address: str) -> None:
        super().__init__(
            f"network access to {address} is blocked while the conformance kit runs a check"
        )
        self.address = address
