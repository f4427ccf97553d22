"""Every Redis key, stream and group name turnstream uses. Nobody else formats a key.

Each shard's keys share the hash tag `{<shard>}` so that a script touching a shard's stream and
its dedupe markers stays inside one Redis Cluster slot.

Ids that come from a channel (channel, conversation, activity and user ids) become parts of keys,
so they are bounded in length and placed so that no two different ids give one key: a channel id
is a plain name (no `/`), so the first `/` of a conversation key ends it; an activity id is the
last part of its key with its `:` escaped; ids in bot-state keys have `/` escaped. Real channels'
ids need no escaping, so their keys are exactly the Bot Framework's. Every key starts with the
deployment's prefix, which holds no braces: the first `{...}` of a key is always turnstream's own.
"""

from __future__ import annotations

import re
import zlib
from dataclasses import dataclass

MAX_CHANNEL_ID_LENGTH = 64
MAX_CONVERSATION_ID_LENGTH = 1024
MAX_ACTIVITY_ID_LENGTH = 512
MAX_USER_ID_LENGTH = 512
MAX_STORAGE_KEY_LENGTH = 4096
"""Bounds on the ids that become parts of keys (characters). Real channels use far less (a Teams
conversation id is ~100); the bounds keep one request from writing megabyte-long keys."""
MAX_SERVICE_URL_LENGTH = 2048
"""Not part of a key, but kept with every queued turn and cached per worker: bounded alike."""

_CHANNEL_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]*")


class BadId(ValueError):
    """An id cannot be part of a key; the message says which and why (a 400 for the channel)."""


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

STARTS_TTL_SECONDS = 86400
"""How long the count of an entry's tries outlives its last try. Nothing deletes it: it exists
only for entries that were retried or taken over, and outlives them by this much."""


def conversation_key(channel_id: str, conversation_id: str) -> str:
    """Identify a conversation across channels (ids are only unique within a channel).

    Raises `BadId` for a channel id that is not a plain name (letters, digits, `.`, `_`, `-`,
    at most MAX_CHANNEL_ID_LENGTH) or a conversation id that is empty or too long."""
    check_channel_id(channel_id)
    check_id_length(conversation_id, MAX_CONVERSATION_ID_LENGTH, "conversation.id")
    return f"{channel_id}/{conversation_id}"


def check_channel_id(channel_id: str) -> None:
    """Raise `BadId` unless `channel_id` is a plain name: it separates keys with `/`."""
    if len(channel_id) > MAX_CHANNEL_ID_LENGTH or not _CHANNEL_ID.fullmatch(channel_id):
        raise BadId(f"channelId must be 1-{MAX_CHANNEL_ID_LENGTH} letters, digits, '.', '_' or '-'")


def check_id_length(value: str, limit: int, label: str) -> None:
    """Raise `BadId` for an empty id or one longer than `limit` characters."""
    if not value or len(value) > limit:
        raise BadId(f"{label} must be 1-{limit} characters")


def storage_key_part(value: str) -> str:
    """An id as one `/`-separated part of a bot-state key (`{channel}/users/{id}`): `%` and `/`
    escaped, so that an id holding `/users/` cannot name another item's key."""
    if "%" in value or "/" in value:
        return value.replace("%", "%25").replace("/", "%2F")
    return value


@dataclass(frozen=True)
class Keyspace:
    """The key layout of one deployment: a prefix and a shard count."""

    prefix: str
    shards: int
    cluster: bool = False
    """On a Redis Cluster: conversation-scoped state keys carry their conversation's shard tag
    (see `state`). On one server the layout stays as it always was."""

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

    def starts(self, shard: int, entry_id: str) -> str:
        """How many times the turn of one entry started, past the first try of its first
        delivery (worker.runtime.delivery.attempts), in its shard's slot."""
        return f"{self.prefix}:{{{shard}}}:starts:{entry_id}"

    def seen(self, shard: int, conversation: str, activity_id: str | None) -> str:
        """Marker of an activity id already enqueued (inbound dedupe), in its shard's slot.
        Activities without an id get a shard-wide placeholder the enqueue script never sets."""
        if not activity_id:
            return f"{self.prefix}:{{{shard}}}:seen:-"
        check_id_length(activity_id, MAX_ACTIVITY_ID_LENGTH, "id")
        if "%" in activity_id or ":" in activity_id:
            # The activity id is the part after the key's last ':' (conversation ids hold ':').
            activity_id = activity_id.replace("%", "%25").replace(":", "%3A")
        return f"{self.prefix}:{{{shard}}}:seen:{conversation}:{activity_id}"

    def answer(self, shard: int, conversation: str, request_id: str) -> str:
        """The stored answer of a request waiting for its turn (an invoke, expectReplies), in
        its shard's slot. `request_id` is the activity id (so a retry finds the answer), or
        one the gateway made up for an activity without an id."""
        return f"{self.prefix}:{{{shard}}}:answer:{conversation}:{_request_part(request_id)}"

    def answer_events(self, shard: int, conversation: str, request_id: str) -> str:
        """The events of a `deliveryMode: stream` request (`shared.protocol.answer_events`): a
        short-lived stream in its shard's slot, so the worker appends to it inside the turn's
        ownership fence."""
        return f"{self.prefix}:{{{shard}}}:events:{conversation}:{_request_part(request_id)}"

    def answers_channel(self) -> str:
        """The pub/sub channel workers publish answers on; every gateway process listens."""
        return f"{self.prefix}:answers"

    def proactive_job(self, job: str) -> str:
        """A fan-out of proactive turns: a hash of its total, queued, done and failed counts."""
        return f"{self.prefix}:proactive:{job}"

    def due(self, shard: int) -> str:
        """The shard's scheduled turns: a sorted set of schedule ids scored by due time (ms since
        the epoch). Workers move what is due into the shard's stream (shared.protocol.schedule)."""
        return f"{self.prefix}:{{{shard}}}:due"

    def scheduled(self, shard: int) -> str:
        """The shard's scheduled turns: a hash of schedule id to its record (what to queue)."""
        return f"{self.prefix}:{{{shard}}}:scheduled"

    def schedule_keys(self, shard: int) -> str:
        """The shard's scheduling keys: a hash of `<conversation>\\n<key>` to the schedule id that
        key names, so that scheduling the same key again replaces the earlier turn."""
        return f"{self.prefix}:{{{shard}}}:schedule-keys"

    def registry_conversation(self, conversation: str) -> str:
        """The conversation registry's record of one conversation: its latest reference, tenant
        and team (JSON, with a TTL) (shared.protocol.registry)."""
        return f"{self.prefix}:registry:conversation:{conversation}"

    def registry_index(self, kind: str, value: str) -> str:
        """A registry index: conversations scored by when they were last seen, of one user
        (`user`, value `channelId/userId`), channel, tenant or team."""
        return f"{self.prefix}:registry:{kind}:{value}"

    def throttle(self, destination: str) -> str:
        """The pacing of proactive sends to one destination (service URL host and tenant),
        shared by every worker: the time the next send may go."""
        return f"{self.prefix}:throttle:{destination}"

    def worker_heartbeat(self, worker_id: str) -> str:
        """A running worker's heartbeat: a string with a TTL, renewed while the worker runs.

        `worker_id` is stable for the life of the pod (its host name), so that a probe run in
        the same pod finds the key without knowing the consumer name.
        """
        return f"{self.prefix}:worker:{worker_id}:heartbeat"

    def readers(self) -> str:
        """The live workers' consumer names, scored by when each last said it was alive: the
        membership that splits the shards among them (worker.runtime.delivery.affinity)."""
        return f"{self.prefix}:readers"

    def callback_holder(self, consumer: str) -> str:
        """Says that worker `consumer` still holds proactive callbacks in its memory (a string
        with a TTL, renewed while it does): the turns naming them are handed to it, or, once
        the key is gone, dead-lettered (worker.runtime.local_callbacks)."""
        return f"{self.prefix}:callbacks:{consumer}"

    def bot_routes(self) -> str:
        """The HTTP routes the bot declares, as each live worker published them: a hash of
        consumer name to its route table (worker.runtime.bot_routes, gateway.bot_routes)."""
        return f"{self.prefix}:bot-routes"

    def gateway_heartbeat(self, gateway_id: str) -> str:
        """A running gateway process's heartbeat: a string with a TTL, renewed while it serves,
        so that `turnstream status` can count the gateways."""
        return f"{self.prefix}:gateway:{gateway_id}:heartbeat"

    def heartbeat_pattern(self, role: str) -> str:
        """A SCAN pattern matching every heartbeat of `role` (`worker` or `gateway`)."""
        prefix = re.sub(r"([*?\[\]\\])", r"\\\1", self.prefix)
        return f"{prefix}:{role}:*:heartbeat"

    def state(self, storage_key: str) -> str:
        """The hash holding one bot-state item (`e` its eTag, `d` its msgpack data).

        `storage_key` is the Bot Framework key, e.g. `msteams/conversations/19:abc`. No hash tag
        on one server; on a cluster, conversation-scoped keys take their shard's tag and every
        other key (user state) lives in a slot of its own (decision 0012). Raises `BadId` past
        MAX_STORAGE_KEY_LENGTH.
        """
        if len(storage_key) > MAX_STORAGE_KEY_LENGTH:  # any key, even '', but not a huge one
            raise BadId(f"a storage key must be at most {MAX_STORAGE_KEY_LENGTH} characters")
        if self.cluster:
            shard = self._conversation_shard(storage_key)
            if shard is not None:
                # In the shard's slot, beside its stream: the state script that commits a turn
                # touches the conversation's state and the stream entry in one slot.
                return f"{self.prefix}:{{{shard}}}:state:{storage_key}"
        return f"{self.prefix}:state:{storage_key}"

    def _conversation_shard(self, storage_key: str) -> int | None:
        """The shard of a conversation-scoped storage key (`{channel}/conversations/{id}`, and
        private conversation state under it); None for any other key (user state)."""
        channel, marker, rest = storage_key.partition("/conversations/")
        if not marker or not rest or not _CHANNEL_ID.fullmatch(channel):
            return None
        escaped = rest.split("/", 1)[0]  # the id's own '/' are escaped (storage_key_part)
        conversation = escaped.replace("%2F", "/").replace("%25", "%")
        return self.shard_of(f"{channel}/{conversation}")

    def transcript(self, channel_id: str, conversation_id: str) -> str:
        """The logged activities of one conversation (a list, oldest first)."""
        return f"{self.prefix}:transcript:{channel_id}/{conversation_id}"

    def transcripts(self, channel_id: str) -> str:
        """Index of a channel's transcripts: conversation ids scored by first activity time."""
        return f"{self.prefix}:transcripts:{channel_id}"

    def outbound_token(self, credential: str) -> str:
        """The bot's current client-credentials token, shared by every worker (a string with a
        TTL). `credential` is a digest naming app id, endpoint and scope, never a secret."""
        return f"{self.prefix}:token:{credential}"

    def outbound_token_lock(self, credential: str) -> str:
        """Held by the one worker fetching a new token, so the others wait instead of asking."""
        return f"{self.prefix}:token-lock:{credential}"


def _request_part(request_id: str) -> str:
    """A request id as the last part of a key (conversation ids hold ':')."""
    check_id_length(request_id, MAX_ACTIVITY_ID_LENGTH, "id")
    if "%" in request_id or ":" in request_id:
        return request_id.replace("%", "%25").replace(":", "%3A")
    return request_id
