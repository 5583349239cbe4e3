"""KC-ID-004: identity precedence — the plugin alone, around the Kora identity, among companions.

The kit loads ``plugins.enabled`` mixes into fresh reference runtimes (see
:mod:`._companions`) and asks whose identity two engines built on each runtime
got.
"""

from __future__ import annotations

from kora_conformance import CheckContext, Suite, needs_identity
from kora_conformance.suites.identity._claimants import call_directly, claimants, load_plugin
from kora_conformance.suites.identity._companions import (
    Arena,
    find_wrong_winner,
    place_kora_probe,
    winner,
    write_companions,
)

suite = Suite("identity")


@suite.check("KC-ID-004", applies=needs_identity)
def precedence(ctx: CheckContext) -> None:
    """Space: the plugin alone, first before and second after a stand-in for the Kora identity
    plugin (keyed ``kora``, as the bundled one is), each twice over in fresh runtimes; then
    hypothesis-searched ``plugins.enabled`` mixes of up to four companions, each declining,
    raising, returning the wrong type or claiming, sync or async, in every position, with the
    Kora stand-in anywhere or absent. In every runtime two engines are built, a probe engine's
    resolution and a reference ``ReasoningEngine``: both must go to the first valid provider in
    enabled order."""
    plugin = load_plugin(ctx)
    calls = [call_directly(c) for c in claimants(plugin)]
    if not any(call.spec is not None for call in calls):
        if all(call.error is None and call.result is None for call in calls):
            ctx.fail(
                expected="alone, the plugin supplies the identity",
                seen="every identity provider declined (returned None) when called directly",
            )
        ctx.skip("no identity provider returned an IdentitySpec (see KC-ID-001)")
    name = ctx.target.name
    root = ctx.sandbox.scratch / "companions"
    pool = write_companions(root)
    kora = place_kora_probe(root, name)
    arena = Arena(ctx, [root])
    scenarios = (
        ("alone", [name], name),
        ("first, before the Kora identity", [name, kora], name),
        ("second, after the Kora identity", [kora, name], kora),
    )
    for _ in range(2):
        for what, enabled, expected in scenarios:
            seen = winner(ctx, arena, enabled)
            if seen != expected:
                ctx.fail(
                    expected=f"{what} (plugins.enabled = {enabled}), {expected} wins",
                    seen=f"{seen} won",
                )
    example = find_wrong_winner(ctx, arena, pool, kora)
    if example is not None:
        ctx.fail(
            expected=f"the first valid provider in plugins.enabled order ({example.expected}) "
            "to win among companion providers",
            seen=f"{example.seen} won",
            detail=example.describe(ctx.options.seed),
        )
