"""Model providers a plugin registers with the host's own ``providers`` registry count as its
registrations (kind ``model_provider``): such a plugin registered something, and no check
examines it, so its verdict is NOTHING CHECKED, never KC-PL-018's "registered nothing".

The host module here is a stand-in written by the test (``providers`` with ``_REGISTRY`` and
``register_provider``, as upstream's), so nothing needs ``hermes-agent`` itself.
"""

from __future__ import annotations

import importlib
import sys
from pathlib import Path

import pytest

from kora_conformance.model._coverage import basis, registrations_of
from reference_runtime import Runtime, RuntimeConfig

pytestmark = pytest.mark.usefixtures("clean_kora_env", "isolated_imports")

HOST = """\
_REGISTRY = {}
_discovered = False


class _Bundled:
    name = "host-bundled"


def register_provider(profile):
    _REGISTRY[profile.name] = profile


def list_providers():
    # Like upstream's: the first listing discovers (registers) the host's bundled providers.
    global _discovered
    if not _discovered:
        _discovered = True
        register_provider(_Bundled())
    return list(_REGISTRY.values())
"""

PLUGIN = """\
import providers
from providers import register_provider


class Profile:
    def __init__(self, name):
        self.name = name


register_provider(Profile("kct-at-import"))


def register(ctx):
    register_provider(Profile("kct-llm"))
    providers.list_providers()  # the host registers its bundled ones now: not the plugin's
"""


@pytest.fixture
def host(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    site = tmp_path / "site"
    (site / "providers").mkdir(parents=True)
    (site / "providers" / "__init__.py").write_text(HOST, encoding="utf-8")
    monkeypatch.syspath_prepend(str(site))
    importlib.invalidate_caches()
    yield site
    sys.modules.pop("providers", None)


def _plugin(root: Path, name: str, body: str) -> None:
    directory = root / name
    directory.mkdir(parents=True)
    (directory / "plugin.yaml").write_text(f"name: {name}\nversion: 1.0.0\n", encoding="utf-8")
    (directory / "__init__.py").write_text(body, encoding="utf-8")


@pytest.mark.usefixtures("host")
def test_profiles_registered_at_import_and_in_register_are_the_plugin_s(tmp_path: Path) -> None:
    _plugin(tmp_path / "plugins", "kct_models", PLUGIN)
    _plugin(
        tmp_path / "plugins",
        "kct_hooked",
        "def register(ctx):\n    ctx.register_hook('on_session_start', lambda **kw: None)\n",
    )
    config = RuntimeConfig(
        enabled=("kct_models", "kct_hooked"),
        plugin_dirs=(tmp_path / "plugins",),
        entry_point_groups=(),
    )

    report = Runtime(config).load()

    models = report.plugin("kct_models")
    assert models is not None
    assert [(r.kind, r.key) for r in models.registrations] == [
        ("model_provider", "kct-at-import"),
        ("model_provider", "kct-llm"),
    ]
    # The next plugin is charged only with what it registered itself.
    hooked = report.plugin("kct_hooked")
    assert hooked is not None
    assert [r.kind for r in hooked.registrations] == ["hook"]
    # Registered, and examined by no check: not covered.
    found = basis(registrations_of(models), {})
    assert [c.kind for c in found.not_covered] == ["model_provider", "model_provider"]


@pytest.mark.usefixtures("host")
def test_a_failed_load_puts_the_host_s_function_back(tmp_path: Path) -> None:
    body = PLUGIN + "\n\ndef register(ctx):\n    raise RuntimeError('no')\n"
    _plugin(tmp_path / "plugins", "kct_broken_models", body)
    config = RuntimeConfig(
        enabled=("kct_broken_models",), plugin_dirs=(tmp_path / "plugins",), entry_point_groups=()
    )
    import providers

    original = providers.register_provider

    report = Runtime(config).load()

    assert "kct_broken_models" in report.errors
    assert providers.register_provider is original


def test_without_the_host_module_nothing_is_read(tmp_path: Path) -> None:
    _plugin(tmp_path / "plugins", "kct_plain", "def register(ctx):\n    pass\n")
    config = RuntimeConfig(
        enabled=("kct_plain",), plugin_dirs=(tmp_path / "plugins",), entry_point_groups=()
    )

    plugin = Runtime(config).load().plugin("kct_plain")

    assert plugin is not None
    assert plugin.registrations == ()
