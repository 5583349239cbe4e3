"""``pytest --kora-selftest``: every check is proven, in this environment, to catch its mutant."""

from __future__ import annotations

import pytest

from kora_conformance.model._catalog import CATALOG
from kora_conformance.mutants._table import Mutant
from kora_conformance.run import _selftest

pytest_plugins = ["pytester"]


@pytest.mark.slow
def test_selftest_passes_and_lists_every_must_check(pytester: pytest.Pytester) -> None:
    result = pytester.runpytest_subprocess("--kora-selftest", "-p", "no:cacheprovider")
    assert result.ret == 0, result.stdout.str()
    text = result.stdout.str()
    assert "NOT CAUGHT" not in text
    assert "NO MUTANT" not in text
    must = sum(check.level == "MUST" for check in CATALOG)
    result.stdout.fnmatch_lines(
        ["*kora self-test*", f"*{must}/{must} MUST checks caught their mutant*"]
    )


def test_a_mutant_its_check_misses_fails_the_selftest(
    pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch
) -> None:
    # A well-behaved plugin passed off as a mutant of KC-PL-003: the check rightly passes it,
    # so the self-test must report the mutant as not caught.
    good = pytester.path / "innocent"
    good.mkdir()
    (good / "plugin.yaml").write_text("name: innocent\nversion: '1'\n")
    (good / "__init__.py").write_text("def register(ctx):\n    pass\n")
    fake = Mutant("innocent", "KC-PL-003", "registers nothing wrong")
    monkeypatch.setattr(Mutant, "path", property(lambda self: good))
    monkeypatch.setattr(_selftest, "MUTANTS", (fake,))
    monkeypatch.setattr(_selftest, "_runtime_mutants", lambda: ())
    result = pytester.runpytest("--kora-selftest", "-k", "KC-PL-003 or KC-PL-001")
    assert result.ret == 1
    result.stdout.fnmatch_lines(
        [
            "*KC-PL-001*no shipped mutant*",
            "*KC-PL-003 did not catch its mutant innocent*expected failed, got passed*",
        ]
    )
