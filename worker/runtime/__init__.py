"""The engine: the worker process, the consumer loop, the per-conversation scheduler, the run of
each turn, proactive and invoke answers, metrics. Bot authors never import from here.

`delivery/` holds the Redis Streams protocol: the Lua scripts, acknowledgements, takeover, the
record of sent replies, dead letters, trimming.
"""
