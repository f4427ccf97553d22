"""Workers: read shard streams, run each turn of the bot, post replies through the Bot Connector.

Bot authors import from `worker.bot`; the rest of this package is the runtime.
"""
