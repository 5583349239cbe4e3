"""The package's public surface: ``reference_runtime.__all__``."""

from __future__ import annotations

import importlib
import inspect
import pkgutil
import re
import types
from typing import Any

import reference_runtime
from reference_runtime import _errors, _identity, _llm, _manifest_view, _surface

_IDENTIFIER = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")


def submodules() -> list[types.ModuleType]:
    names = [
        info.name
        for info in pkgutil.iter_modules(reference_runtime.__path__)
        if info.name != "__main__"
    ]
    return [importlib.import_module(f"reference_runtime.{name}") for name in names]


def isort_style(name: str) -> tuple[int, str]:
    """Ruff's RUF022 order: SCREAMING_CASE constants, then CamelCase classes, then the rest."""
    if name.isupper():
        return 0, name
    if name[0].isupper():
        return 1, name
    return 2, name


def test_all_is_sorted_and_unique() -> None:
    names = list(reference_runtime.__all__)

    assert names == sorted(names, key=isort_style)
    assert len(names) == len(set(names))


def test_every_name_in_all_exists() -> None:
    missing = [n for n in reference_runtime.__all__ if not hasattr(reference_runtime, n)]

    assert missing == []


def test_star_import_gives_exactly_all() -> None:
    namespace: dict[str, Any] = {}
    exec("from reference_runtime import *", namespace)

    assert set(namespace) - {"__builtins__"} == set(reference_runtime.__all__)


def test_every_submodule_all_names_exist() -> None:
    for module in submodules():
        for name in getattr(module, "__all__", ()):
            assert hasattr(module, name), f"{module.__name__}.__all__ names missing {name}"


def test_errors_and_identity_types_are_all_exported() -> None:
    exported = set(reference_runtime.__all__)

    assert set(_errors.__all__) <= exported
    assert set(_identity.__all__) <= exported


def test_the_hermes_surface_and_its_records_are_exported() -> None:
    exported = set(reference_runtime.__all__)

    assert set(_surface.__all__) <= exported
    assert set(_llm.__all__) <= exported
    assert set(_manifest_view.__all__) <= exported
    assert {"Registration", "ToolRecord", "CommandRecord"} <= exported
    assert {"SurfaceCall", "SurfaceMethod", "SurfaceParam", "SurfaceRule", "SurfaceScope"} <= (
        exported
    )


def test_every_error_class_is_exported_and_a_kora_error() -> None:
    for module in submodules():
        for name, obj in vars(module).items():
            if (
                inspect.isclass(obj)
                and issubclass(obj, Exception)
                and not name.startswith("_")
                and obj.__module__.startswith("reference_runtime")
            ):
                assert issubclass(obj, reference_runtime.KoraError), name
                assert name in reference_runtime.__all__, name


def _annotation_texts(obj: Any) -> list[str]:
    texts: list[str] = []
    targets: list[Any] = [obj]
    if inspect.isclass(obj):
        for klass in obj.__mro__:
            if klass.__module__.startswith("reference_runtime"):
                texts.extend(str(a) for a in vars(klass).get("__annotations__", {}).values())
        for name, member in vars(obj).items():
            if name.startswith("_") and name != "__init__":
                continue
            function = member.fget if isinstance(member, property) else member
            targets.append(getattr(function, "__func__", function))
    for target in targets:
        annotations = getattr(target, "__annotations__", None)
        if isinstance(annotations, dict) and not inspect.isclass(target):
            texts.extend(str(a) for a in annotations.values())
    return texts


def test_types_reachable_from_the_public_api_are_exported() -> None:
    """A class that a public signature or field mentions must be importable from the package."""
    defined = {
        name
        for module in submodules()
        for name, obj in vars(module).items()
        if inspect.isclass(obj)
        and not name.startswith("_")
        and obj.__module__.startswith("reference_runtime")
    }
    exported = set(reference_runtime.__all__)
    unexported: dict[str, set[str]] = {}
    for name in exported:
        for text in _annotation_texts(getattr(reference_runtime, name)):
            for word in _IDENTIFIER.findall(text):
                if word in defined and word not in exported:
                    unexported.setdefault(word, set()).add(name)

    assert unexported == {}


def test_exported_classes_present_themselves_as_the_package() -> None:
    for name in reference_runtime.__all__:
        obj = getattr(reference_runtime, name)
        # Callable[...] aliases count as classes on Python 3.10; they are not ours to rename.
        if inspect.isclass(obj) and getattr(obj, "__origin__", None) is None:
            assert obj.__module__ == "reference_runtime", name
            assert getattr(reference_runtime, obj.__qualname__) is obj


def test_version_is_a_string() -> None:
    assert isinstance(reference_runtime.__version__, str)
    assert reference_runtime.__version__
