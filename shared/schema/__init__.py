"""The Bot Framework schema with botbuilder-python's names: the activity and its parts, cards,
named values, token service messages. Plain data; no Redis, no I/O."""
