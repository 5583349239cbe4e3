"""Conforming: registers ``on_session_end`` from its first ``on_session_start``, through the
context it kept, under a known name and declared in its manifest; safe in several runtimes."""

_contexts = []


def on_session_end(**kwargs):
    return None


def on_session_start(**kwargs):
    while _contexts:
        _contexts.pop().register_hook("on_session_end", on_session_end)


def register(ctx):
    _contexts.append(ctx)
    ctx.register_hook("on_session_start", on_session_start)
