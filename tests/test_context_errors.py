"""The errors a context raises to its plugin inside ``register(ctx)``, recorded for the checks.

A plugin that catches such an error and carries on loads without what the call would have
registered (KC-PL-019 reports it); probing for a member with ``hasattr``/``getattr(..., None)``
is feature detection and is not recorded.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from reference_runtime import Runtime, RuntimeConfig

MakePlugin = Callable[..., Path]


def _loaded(plugins_root: Path, name: str) -> Runtime:
    runtime = Runtime(RuntimeConfig(enabled=(name,), plugin_dirs=(plugins_root,)))
    report = runtime.load()
    assert report.plugin(name) is not None, report.errors
    return runtime


def test_a_caught_rule_error_is_recorded_with_the_call_and_the_plugins_line(
    make_plugin: MakePlugin, plugins_root: Path
) -> None:
    make_plugin(
        "kct_swallow",
        "def register(ctx):\n"
        "    try:\n"
        "        ctx.register_tool('bad name', 'set', {}, lambda args, **kw: '{}')\n"
        "    except ValueError:\n"
        "        pass\n"
        "    ctx.register_hook('on_session_start', lambda **kw: None)\n",
    )

    context = _loaded(plugins_root, "kct_swallow").context("kct_swallow")

    assert context is not None
    [error] = context.context_errors
    assert error.call == "ctx.register_tool('bad name', ...)"
    assert error.error.startswith("RegistrationRuleError: ")
    assert "tool.name" in error.error
    assert error.where.endswith("kct_swallow/__init__.py:3")


def test_a_missing_member_read_directly_is_recorded_but_a_probe_is_not(
    make_plugin: MakePlugin, plugins_root: Path
) -> None:
    make_plugin(
        "kct_probe",
        "def register(ctx):\n"
        "    if hasattr(ctx, 'register_gizmo'):\n"
        "        ctx.register_gizmo()\n"
        "    getattr(ctx, 'register_widget', None)\n"
        "    try:\n"
        "        ctx._manager.add(1)\n"
        "    except AttributeError:\n"
        "        pass\n"
        "    ctx.register_hook('on_session_start', lambda **kw: None)\n",
    )

    context = _loaded(plugins_root, "kct_probe").context("kct_probe")

    assert context is not None
    assert [(e.call, e.where.rsplit(":", 1)[1]) for e in context.context_errors] == [
        ("ctx._manager", "6")
    ]
    assert "AttributeError" in context.context_errors[0].error


def test_calls_after_register_and_nested_runtime_calls_are_not_recorded(
    make_plugin: MakePlugin, plugins_root: Path
) -> None:
    make_plugin(
        "kct_later",
        "KEPT = []\n"
        "def register(ctx):\n"
        "    KEPT.append(ctx)\n"
        "    ctx.register_identity_provider(lambda **kw: None)\n",
    )
    runtime = _loaded(plugins_root, "kct_later")
    context = runtime.context("kct_later")
    assert context is not None

    with pytest.raises(ValueError, match=r"tool\.name"):
        context.register_tool("bad name", "set", {}, lambda args, **kw: "{}")

    assert context.context_errors == ()


def test_a_plugin_whose_register_lets_the_error_through_fails_to_load(
    make_plugin: MakePlugin, plugins_root: Path
) -> None:
    make_plugin("kct_raises", "def register(ctx):\n    ctx.register_tool('bad name', 's', {}, 1)\n")
    runtime = Runtime(RuntimeConfig(enabled=("kct_raises",), plugin_dirs=(plugins_root,)))

    report = runtime.load()

    assert report.plugin("kct_raises") is None
    assert "tool.name" in report.errors["kct_raises"]
