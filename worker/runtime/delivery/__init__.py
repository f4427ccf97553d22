"""The Redis Streams delivery protocol: scripts, acks, ordering, takeover, sent-reply records,
attempts, dead letters, shard affinity and trimming."""
