"""KC-PL-020: every manifest key is one the contract or upstream defines.

Hosts keep unknown keys and load the plugin anyway (upstream warns for v2 manifests and logs at
DEBUG for v1), so a misspelt key is silently never read: this check names it.
"""

from __future__ import annotations

import difflib

from kora_conformance import CheckContext, Suite, needs_manifest
from reference_runtime import KNOWN_MANIFEST_KEYS, ManifestError, load_manifest

suite = Suite("manifest_keys")


@suite.check("KC-PL-020", applies=needs_manifest)
def known_manifest_keys(ctx: CheckContext) -> None:
    """Space: every top-level key of the manifest of either route (a directory's, or the one an
    entry-point package ships), against the contract's and upstream's keys and any
    ``provides_*``: a misspelling, a key in the wrong case, a key of another tool's format."""
    path = ctx.profile.manifest_path
    assert path is not None  # needs_manifest
    try:
        manifest = load_manifest(path)
    except ManifestError:
        ctx.skip("the manifest is not valid (see KC-PL-002)")
    if not manifest.unknown_keys:
        return
    named = []
    for key in manifest.unknown_keys:
        close = difflib.get_close_matches(key, sorted(KNOWN_MANIFEST_KEYS), n=1)
        named.append(f"{key!r} (did you mean {close[0]!r}?)" if close else repr(key))
    ctx.fail(
        expected="only manifest keys the contract or upstream defines",
        seen=f"{path} has unknown key(s) {', '.join(named)}: kept, but no host reads them",
        detail="known keys: " + ", ".join(sorted(KNOWN_MANIFEST_KEYS)) + ", and any provides_*",
    )
