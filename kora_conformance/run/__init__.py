"""The pytest run: the session and its state (in ``config.stash``), the items, the results and
their reports, exemptions, the self-test, the authors' fixtures.

Internal to the kit; entered only through :mod:`kora_conformance.plugin`.
"""
