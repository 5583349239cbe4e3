"""KC-PL-*: the plugin as a package — discovery, manifest, hooks, network, reloads."""

from __future__ import annotations

from kora_conformance._check import CheckContext, Suite

suite = Suite("plugin")


@suite.check("KC-PL-001", applies=lambda profile: None)
def discoverable_and_loadable(ctx: CheckContext) -> None:
    ctx.load()
