"""Where plugin code runs: a process of its own per check, forked from a prepared server, and
inside it the sandbox (modules, ``sys.path``, environment, home) and the network guard.

Internal to the kit; the run (:mod:`kora_conformance.run`) starts checks through it, and the
judging process never imports plugin code.
"""
