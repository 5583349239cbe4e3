"""A human-in-the-loop tool: the handler blocks until a person answers, which in a
certification nobody does; the second tool answers at once."""

import json
import threading

_ANSWERED = threading.Event()  # set by the chat platform when a person answers; never here

ASK = {
    "type": "object",
    "properties": {"question": {"type": "string"}},
}
ECHO = {"type": "object", "properties": {"text": {"type": "string"}}}


def ask_a_person(args, **kwargs):
    _ANSWERED.wait()
    return json.dumps({"answered": True})


def echo(args, **kwargs):
    return json.dumps({"text": str(args.get("text", ""))})


def register(ctx):
    ctx.register_tool("kct_ask_a_person", "kct", {"parameters": ASK}, ask_a_person)
    ctx.register_tool("kct_echo", "kct", {"parameters": ECHO}, echo)
