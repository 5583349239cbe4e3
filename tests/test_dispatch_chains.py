"""Dispatcher chains: consecutive callbacks of a hook are one pluggy implementation, and the order
is still the one a ``trylast`` implementation per callback gives."""

from __future__ import annotations

import logging
from typing import Any

import pytest

from reference_runtime import IDENTITY_HOOK, IdentitySpec, hookimpl
from reference_runtime._dispatch import Attributed, Dispatcher

HOOK = "on_session_start"


def _returning(value: object) -> Any:
    def callback(**kwargs: Any) -> object:
        return value

    return callback


def _values(dispatcher: Dispatcher, hook: str = HOOK) -> list[object]:
    return [item.value for item in dispatcher.call(hook, {})]


def test_consecutive_callbacks_share_one_pluggy_implementation() -> None:
    dispatcher = Dispatcher()
    for i in range(100):
        dispatcher.add(f"p{i}", HOOK, _returning(i))

    assert len(dispatcher.manager.hook.on_session_start.get_hookimpls()) == 1
    assert _values(dispatcher) == list(range(100))


def test_a_native_trylast_implementation_keeps_its_place_between_callbacks() -> None:
    class Native:
        @hookimpl(trylast=True, specname=HOOK)
        def native(self, context: Any) -> Attributed:
            return Attributed("native", "native")

    class Early:
        @hookimpl(specname=HOOK)
        def early(self, context: Any) -> Attributed:
            return Attributed("early", "early")

    dispatcher = Dispatcher()
    dispatcher.add("a", HOOK, _returning("a"))
    dispatcher.add("b", HOOK, _returning("b"))
    dispatcher.manager.register(Native())
    dispatcher.add("c", HOOK, _returning("c"))
    dispatcher.manager.register(Early())
    dispatcher.add("d", HOOK, _returning("d"))

    assert _values(dispatcher) == ["early", "a", "b", "native", "c", "d"]


def test_removing_callbacks_keeps_the_order_and_drops_empty_chains() -> None:
    dispatcher = Dispatcher()
    handles = {name: dispatcher.add(name, HOOK, _returning(name)) for name in "abc"}

    dispatcher.remove(handles["b"])
    assert _values(dispatcher) == ["a", "c"]
    dispatcher.remove(handles["a"])
    dispatcher.remove(handles["c"])
    assert _values(dispatcher) == []
    assert dispatcher.manager.hook.on_session_start.get_hookimpls() == []
    dispatcher.add("d", HOOK, _returning("d"))
    assert _values(dispatcher) == ["d"]
    with pytest.raises(ValueError, match="not a callback registered"):
        dispatcher.remove(handles["a"])
    with pytest.raises(ValueError, match="not a callback registered"):
        Dispatcher().remove(object())


def test_a_callback_added_during_a_call_is_not_called_by_it() -> None:
    dispatcher = Dispatcher()

    def adds_another(**kwargs: Any) -> str:
        dispatcher.add("late", HOOK, _returning("late"))
        return "first"

    dispatcher.add("first", HOOK, adds_another)

    assert _values(dispatcher) == ["first"]
    assert _values(dispatcher) == ["first", "late"]  # and a second "late" for the next call


def test_each_callback_is_isolated_and_attributed(caplog: pytest.LogCaptureFixture) -> None:
    dispatcher = Dispatcher()
    spec = IdentitySpec("persona", "prompt")

    def broken(**kwargs: Any) -> object:
        msg = "boom"
        raise RuntimeError(msg)

    async def claims(**kwargs: Any) -> object:
        return {"identity": spec}

    dispatcher.add("broken", IDENTITY_HOOK, broken)
    dispatcher.add("wrong", IDENTITY_HOOK, _returning("not a claim"))
    dispatcher.add("claims", IDENTITY_HOOK, claims)
    dispatcher.add("later", IDENTITY_HOOK, _returning({"identity": IdentitySpec("x", "y")}))
    dispatcher.add("broken", HOOK, broken)
    dispatcher.add("fine", HOOK, _returning("fine"))

    with caplog.at_level(logging.WARNING, logger="reference_runtime"):
        claim = dispatcher.call(IDENTITY_HOOK, {"engine": None})
        observed = dispatcher.call(HOOK, {})

    assert claim == [Attributed("claims", {"identity": spec})]
    assert observed == [Attributed("fine", "fine")]
    assert caplog.text.count("raised RuntimeError: boom") == 2
    assert "returned 'not a claim'" in caplog.text
