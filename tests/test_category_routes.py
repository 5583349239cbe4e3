"""Category plugins (``<root>/<category>/<name>/``) and the memory-provider route, as upstream.

Upstream discovers a plugin one category level down and keys it ``category/name``; memory
providers live under ``<root>/memory/<name>/``, are keyed by their bare name (the name
``memory.provider`` selects), and the first one seen wins rather than the last.
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from pathlib import Path

from reference_runtime import Runtime, RuntimeConfig, discover

MakePlugin = Callable[..., Path]

PAGER = """\
def register(ctx):
    ctx.register_platform("pager", "Pager", lambda cfg: object(), lambda: True)
"""

RECALL = """\
class Recall:
    name = "recall"

    def is_available(self):
        return True

    def prefetch(self, query, **kwargs):
        return ""


def register(ctx):
    ctx.register_memory_provider(Recall())
"""


def test_a_category_plugin_is_discovered_and_keyed_category_slash_name(
    make_plugin: MakePlugin, plugins_root: Path
) -> None:
    make_plugin("platforms/pager", PAGER, manifest={"name": "pager", "version": "1.0"})

    found = discover([plugins_root])

    assert list(found.candidates) == ["platforms/pager"]
    runtime = Runtime(RuntimeConfig(enabled=("platforms/pager",), plugin_dirs=(plugins_root,)))
    report = runtime.load()
    assert report.errors == {}
    assert [r.key for r in runtime.registrations("platforms/pager")] == ["pager"]
    context = runtime.context("platforms/pager")
    assert context is not None
    assert context.plugin_id == "platforms/pager"
    # Imported as upstream names it: the key's '/' becomes '__'.
    assert "hermes_plugins.platforms__pager" in sys.modules


def test_categories_do_not_nest_and_an_empty_directory_is_still_skipped(
    make_plugin: MakePlugin, plugins_root: Path
) -> None:
    make_plugin("a/b/deep", PAGER, manifest={"name": "deep"})
    (plugins_root / "empty").mkdir()

    found = discover([plugins_root])

    assert found.candidates == {}
    assert "no plugin.yaml" in found.skipped["empty"][0].reason
    assert "no plugin.yaml" in found.skipped["a"][0].reason


def test_a_memory_provider_is_keyed_by_its_name_and_the_first_one_seen_wins(
    make_plugin: MakePlugin, tmp_path: Path, plugins_root: Path
) -> None:
    manifest = {"name": "recall", "version": "1.0", "kind": "exclusive"}
    first = make_plugin("memory/recall", RECALL, manifest=manifest)
    later_root = tmp_path / "later"
    make_plugin("memory/recall", RECALL, manifest=manifest, root=later_root)

    found = discover([plugins_root, later_root])

    assert list(found.candidates) == ["recall"]
    assert found.candidates["recall"].path == first
    [shadow] = found.shadowed
    assert shadow.winner == str(first)
    runtime = Runtime(RuntimeConfig(enabled=("recall",), plugin_dirs=(plugins_root, later_root)))
    runtime.load()
    assert [r.kind for r in runtime.registrations("recall")] == ["memory_provider"]
