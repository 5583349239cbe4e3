"""The kit's public surface: ``kora_conformance.__all__``, and what a third party's suite needs."""

from __future__ import annotations

import inspect
from typing import Any

import pytest

import kora_conformance
from kora_conformance import adapter
from kora_conformance.model import _check


def isort_style(name: str) -> tuple[int, str]:
    """Ruff's RUF022 order: SCREAMING_CASE constants, then CamelCase classes, then the rest."""
    if name.isupper():
        return 0, name
    if name[0].isupper():
        return 1, name
    return 2, name


def test_all_is_sorted_and_unique() -> None:
    names = list(kora_conformance.__all__)

    assert names == sorted(names, key=isort_style)
    assert len(names) == len(set(names))


def test_star_import_gives_exactly_all() -> None:
    namespace: dict[str, Any] = {}
    exec("from kora_conformance import *", namespace)

    assert set(namespace) - {"__builtins__"} == set(kora_conformance.__all__)


def test_dir_lists_the_public_names() -> None:
    assert dir(kora_conformance) == sorted(kora_conformance.__all__)


def test_an_unknown_name_is_an_attribute_error() -> None:
    with pytest.raises(AttributeError, match="no attribute 'Nope'"):
        _ = kora_conformance.Nope  # type: ignore[attr-defined]


@pytest.mark.parametrize("name", [n for n in kora_conformance.__all__ if n != "__version__"])
def test_every_public_name_is_documented(name: str) -> None:
    value = getattr(kora_conformance, name)
    if inspect.isclass(value) or inspect.isfunction(value):
        assert inspect.getdoc(value), f"kora_conformance.{name} has no docstring"


def test_the_check_api_the_suites_use_is_public() -> None:
    # Everything a suite writes a check with: the suite, the context, the profile and every
    # applicability predicate. Only the kit's own bookkeeping (Implementation) stays inside.
    assert set(_check.__all__) - {"Implementation"} <= set(kora_conformance.__all__)


def test_the_adapter_protocol_has_a_public_home() -> None:
    exported = set(kora_conformance.__all__)

    assert set(adapter.__all__) - {"load_adapter"} <= exported
    for name in adapter.__all__:
        assert getattr(adapter, name) is getattr(kora_conformance, name, getattr(adapter, name))


def test_the_error_tree_is_public() -> None:
    from kora_conformance import _errors

    assert set(_errors.__all__) - {"CheckProcessError"} <= set(kora_conformance.__all__)
