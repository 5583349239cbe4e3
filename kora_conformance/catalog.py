"""``python -m kora_conformance.catalog``: print the check catalog as Markdown."""

from __future__ import annotations

from kora_conformance.model._docs import render_checks

__all__ = ["main"]


def main() -> None:
    """Print ``docs/checks.md``."""
    print(render_checks(), end="")


if __name__ == "__main__":
    main()
