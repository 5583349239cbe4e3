"""The check model: the catalog, suites and checks, applicability, targets — no pytest run.

Internal to the kit: what is public is re-exported by :mod:`kora_conformance` (``Suite``,
``CheckContext``, the applicability predicates, ``Check``, ``CATALOG``, ``Target``). Nothing
here imports pytest's run machinery (:mod:`kora_conformance.run`), so a third party's suite, the
console command and the documentation renderer can use the model without a session.
"""
