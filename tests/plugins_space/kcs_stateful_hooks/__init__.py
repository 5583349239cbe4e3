"""Callbacks that keep state: a counter, an async hook, shapes that depend on the payload."""

import itertools
import json

_COUNT = itertools.count()
SESSIONS = []


def count_turns(**kwargs):
    # A different result on every call, with or without new keywords.
    return next(_COUNT)


async def on_session_start(session_id=None, **kwargs):
    SESSIONS.append(session_id)


def guard(tool_name="", args=None, **kwargs):
    if tool_name == "terminal" and "rm -rf" in str((args or {}).get("command", "")):
        return {"action": "block", "message": "no recursive deletes"}
    if tool_name == "terminal":
        return {"action": "approve"}
    return None


def add_context(is_first_turn=False, user_message="", **kwargs):
    if not is_first_turn:
        return None
    return {"context": f"First turn ({len(user_message)} characters)."}


def shorten(result="", **kwargs):
    try:
        json.loads(result)
    except ValueError:
        return None
    return result[:1000]


class CountingMemory:
    name = "counting"

    def __init__(self):
        self.turns = []

    def is_available(self):
        return True

    def initialize(self, session_id, **kwargs):
        self.session_id = session_id

    def sync_turn(self, user_content, assistant_content, **kwargs):
        self.turns.append(user_content)

    def prefetch(self, query, **kwargs):
        # Changes with every call: the turns seen so far.
        self.turns.append(query)
        return f"{len(self.turns)} turns"


def register(ctx):
    ctx.register_hook("post_llm_call", count_turns)
    ctx.register_hook("on_session_start", on_session_start)
    ctx.register_hook("pre_tool_call", guard)
    ctx.register_hook("pre_llm_call", add_context)
    ctx.register_hook("transform_tool_result", shorten)
    ctx.register_memory_provider(CountingMemory())
