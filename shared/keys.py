"""Every Redis key, stream and group name turnstream uses. Nobody else formats a key.

Each shard's keys share the hash tag `{<shard>}` so that a script touching a shard's stream and
its dedupe markers stays inside one Redis Cluster slot.
"""

from __future__ import annotations

import zlib
from dataclasses import dataclass

CONSUMER_GROUP = "workers"
"""The one consumer group every worker joins on every shard stream."""

ENVELOPE_FIELD = "e"
"""The stream entry field holding the msgpack-encoded envelope."""

PREVIOUS_FIELD = "p"
"""The stream entry field holding the id of the conversation's previous entry ('' for none)."""

CHAIN_TTL_SECONDS = 7 * 86400
"""How long an idle conversation's last/done pointers live. `last` is refreshed on enqueue and
`done` on commit, so `last` expires first and a new chain simply starts (predecessor '')."""


SENT_TTL_SECONDS = 86400
"""How long the record of replies already sent for an entry outlives a turn that never
committed (the commit deletes it; the expiry only collects what a crash left behind)."""


def conversation_key(channel_id: str, conversation_id: str) -> str:
    """Identify a conversation across channels (ids are only unique within a channel)."""
    return f"{channel_id}/{conversation_id}"


@dataclass(frozen=True)
class Keyspace:
    """The key layout of one deployment: a prefix and a shard count."""

    prefix: str
    shards: int

    def shard_of(self, conversation: str) -> int:
        """The shard a conversation key lives on. crc32 because it is stable across processes."""
        return zlib.crc32(conversation.encode()) % self.shards

    def stream(self, shard: int) -> str:
        """The inbound stream of one shard."""
        return f"{self.prefix}:{{{shard}}}:in"

    def streams(self) -> list[str]:
        """Every shard's inbound stream, in shard order."""
        return [self.stream(shard) for shard in range(self.shards)]

    def dead_letters(self, shard: int) -> str:
        """The shard's dead-letter stream: entries that could not be processed, with why."""
        return f"{self.prefix}:{{{shard}}}:dlq"

    def last(self, shard: int, conversation: str) -> str:
        """Id of the conversation's newest entry: the next entry's predecessor."""
        return f"{self.prefix}:{{{shard}}}:last:{conversation}"

    def done(self, shard: int, conversation: str) -> str:
        """Id of the conversation's last committed entry: the next one may run when its
        predecessor is this one."""
        return f"{self.prefix}:{{{shard}}}:done:{conversation}"

    def sent(self, shard: int, entry_id: str) -> str:
        """Replies already sent while processing one entry (effectively-once sends across
        deliveries), in its shard's slot: the commit that acknowledges the entry deletes it."""
        return f"{self.prefix}:{{{shard}}}:sent:{entry_id}"

    def seen(self, shard: int, conversation: str, activity_id: str | None) -> str:
        """Marker of an activity id already enqueued (inbound dedupe), in its shard's slot.
        Activities without an id get a shard-wide placeholder the enqueue script never sets."""
        if not activity_id:
            return f"{self.prefix}:{{{shard}}}:seen:-"
        return f"{self.prefix}:{{{shard}}}:seen:{conversation}:{activity_id}"

    def worker_heartbeat(self, worker_id: str) -> str:
        """A running worker's heartbeat: a string with a TTL, renewed while the worker runs.

        `worker_id` is stable for the life of the pod (its host name), so that a probe run in
        the same pod finds the key without knowing the consumer name.
        """
        return f"{self.prefix}:worker:{worker_id}:heartbeat"

    def state(self, storage_key: str) -> str:
        """The hash holding one bot-state item (`e` its eTag, `d` its msgpack data).

        `storage_key` is the Bot Framework key, e.g. `msteams/conversations/19:abc`. Deliberately
        no hash tag: a turn's conversation and user state are unrelated keys (see decision 0005
        for what that means on Redis Cluster).
        """
        return f"{self.prefix}:state:{storage_key}"

    def transcript(self, channel_id: str, conversation_id: str) -> str:
        """The logged activities of one conversation (a list, oldest first)."""
        return f"{self.prefix}:transcript:{channel_id}/{conversation_id}"

    def transcripts(self, channel_id: str) -> str:
        """Index of a channel's transcripts: conversation ids scored by first activity time."""
        return f"{self.prefix}:transcripts:{channel_id}"
