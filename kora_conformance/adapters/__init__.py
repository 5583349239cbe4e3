"""Runtime adapters the kit ships for runtimes other than its own reference runtime.

:mod:`kora_conformance.adapters.hermes` certifies upstream Hermes (``hermes-agent``) itself.
"""
