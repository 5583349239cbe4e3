"""Naming a plugin's callbacks in reports, and telling when two of them are the same work.

Contract 3.2 speaks of callbacks by identity: the bound methods of one instance on both sides, a
task known to both sides scheduled once. "The same" is therefore decided by what runs: a bound
method's function and its ``__self__``, through any ``functools.partial``.
"""

from __future__ import annotations

import dataclasses
import functools
import inspect
import types

from reference_runtime import describe_callable

__all__ = [
    "CallbackKey",
    "bound_to_instance",
    "callback_key",
    "describe_bound",
    "same_bound",
]


def describe_bound(fn: object) -> str:
    """``fn``'s name and, for a method bound to an instance, which instance."""
    owner = getattr(fn, "__self__", None)
    name = describe_callable(fn)
    if owner is None or isinstance(owner, types.ModuleType):
        return name
    return f"{name} of the {type(owner).__qualname__} instance at {id(owner):#x}"


def same_bound(a: object, b: object) -> bool:
    """Equal, and when bound methods, bound to the very same instance."""
    return bool(a == b) and getattr(a, "__self__", None) is getattr(b, "__self__", None)


def bound_to_instance(fn: object) -> bool:
    """``fn`` is a method bound to an instance (not to a module or a class)."""
    owner = getattr(fn, "__self__", None)
    return owner is not None and not isinstance(owner, (types.ModuleType, type))


@dataclasses.dataclass(frozen=True)
class CallbackKey:
    """What identifies a callback's work while it runs: its code and, for a method, its
    instance."""

    code: types.CodeType
    instance: int | None


def callback_key(callback: object) -> CallbackKey | None:
    """The key of the work ``callback`` runs, through partials and bound methods; ``None`` for
    a callable without Python code (a builtin)."""
    target = callback
    while isinstance(target, functools.partial):
        target = target.func
    instance: object = None
    if inspect.ismethod(target):
        instance, target = target.__self__, target.__func__
    code = getattr(target, "__code__", None)
    if not isinstance(code, types.CodeType):
        code = getattr(inspect.getattr_static(type(target), "__call__", None), "__code__", None)
        instance = target
        if not isinstance(code, types.CodeType):
            return None
    return CallbackKey(code, None if instance is None else id(instance))
