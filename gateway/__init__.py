"""The HTTP gateway: authenticate an activity, append it to its shard stream, answer 202."""
