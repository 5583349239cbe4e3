"""Commands that take new keywords: one echoes, one (async) counts its calls."""

TALLY = []


def echo_args(raw_args, **kwargs):
    return raw_args.strip() or "(nothing)"


async def tally(raw_args, **kwargs):
    TALLY.append(raw_args)
    return f"{len(TALLY)} calls"


def register(ctx):
    ctx.register_command("echo-args", echo_args, description="Echo the arguments")
    ctx.register_command("tally", tally, description="Count the calls")
