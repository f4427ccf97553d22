"""Proactive turns: a turn in a conversation that nobody just wrote in, asked for by an operator
(`POST /api/proactive`, `turnstream send`) or by the bot's own code (`continue_conversation`).

A proactive turn is queued on its conversation's shard like a user's activity, chained after the
conversation's last entry, so it runs in order with the user's turns and gets the same delivery
guarantees. Its activity is the conversation reference's continuation event; the envelope says
what to do with it (`shared.protocol.envelope.ProactiveTurn`): send a given activity, run a
callback, or let the bot handle the event. A fan-out to many conversations is a job whose
progress workers count in a hash, and whose sends workers pace per service URL and tenant
(`worker.runtime.throttle`).
"""

from __future__ import annotations

import asyncio
import time
import uuid
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import orjson

from shared.protocol.chain import ENQUEUE_KEYS, ENQUEUE_SCRIPT, enqueue_arguments
from shared.protocol.envelope import Envelope, ProactiveTurn
from shared.protocol.keys import (
    MAX_SERVICE_URL_LENGTH,
    MAX_USER_ID_LENGTH,
    BadId,
    Keyspace,
    conversation_key,
)
from shared.protocol.signing import EnvelopeSigner
from shared.redis.connection import Redis, is_cluster

CONTINUE_CONVERSATION = "ContinueConversation"
"""The name of the event a proactive turn runs on when none is given (as in the SDK)."""
MAX_REFERENCES = 10_000
"""Conversations in one fan-out request: larger sets go in several jobs."""
JOB_TTL_SECONDS = 86400
"""How long a job's progress stays readable."""
_PIPELINE_SIZE = 500


class BadReference(ValueError):
    """A conversation reference, activity or event that cannot be queued; says which and why."""


@dataclass(frozen=True)
class Progress:
    """Where a fan-out job stands: queued turns, and how many ran (done) or failed in the bot."""

    total: int
    queued: int
    done: int
    failed: int
    teams_operation: dict[str, Any] | None = None
    """The Teams batch operation the job's one turn started and followed
    (`shared.protocol.teams_batch`): its id, and once checked its state, entries and the count
    of entries per status."""

    @property
    def finished(self) -> bool:
        return self.done + self.failed >= self.total

    def to_dict(self) -> dict[str, Any]:
        shown: dict[str, Any] = {
            "total": self.total,
            "queued": self.queued,
            "done": self.done,
            "failed": self.failed,
            "finished": self.finished,
        }
        if self.teams_operation is not None:
            shown["teamsOperation"] = self.teams_operation
        return shown


def _teams_operation(fields: Mapping[str, bytes]) -> dict[str, Any] | None:
    """A job's Teams batch operation as its progress shows it, or None."""
    if "teamsOperationId" not in fields:
        return None
    operation: dict[str, Any] = {"id": fields["teamsOperationId"].decode()}
    if "teamsOperationState" in fields:
        operation["state"] = fields["teamsOperationState"].decode()
        operation["totalEntries"] = int(fields.get("teamsOperationEntries", b"0"))
        operation["statusMap"] = orjson.loads(fields.get("teamsOperationStatusMap", b"{}"))
    return operation


def continuation_activity(
    reference: Mapping[str, Any], *, event: str | None = None, value: Any = None
) -> dict[str, Any]:
    """The event a proactive turn runs on, addressed like a message from the reference's user to
    its bot (so replies go from the bot to the conversation). Raises `BadReference`."""
    if not isinstance(reference, Mapping):
        raise BadReference("a conversation reference must be an object")
    service_url = reference.get("serviceUrl")
    channel_id = reference.get("channelId")
    conversation = reference.get("conversation")
    if (
        not isinstance(service_url, str)
        or not service_url.startswith(("https://", "http://"))
        or len(service_url) > MAX_SERVICE_URL_LENGTH  # as at /api/messages
    ):
        raise BadReference(
            "a conversation reference needs an absolute http(s) serviceUrl of at most "
            f"{MAX_SERVICE_URL_LENGTH} characters"
        )
    if not isinstance(channel_id, str) or not isinstance(conversation, Mapping):
        raise BadReference("a conversation reference needs channelId and conversation")
    conversation_id = conversation.get("id")
    if not isinstance(conversation_id, str):
        raise BadReference("a conversation reference needs conversation.id")
    try:
        conversation_key(channel_id, conversation_id)
    except BadId as e:
        raise BadReference(str(e)) from None
    _check_accounts(reference)
    if event is not None and (not isinstance(event, str) or not 0 < len(event) <= 256):
        raise BadReference("an event name must be 1-256 characters")
    activity: dict[str, Any] = {
        "type": "event",
        "name": event or CONTINUE_CONVERSATION,
        "channelId": channel_id,
        "serviceUrl": service_url,
        "conversation": dict(conversation),
        "relatesTo": dict(reference),
    }
    for wire, field in (("from", "user"), ("recipient", "bot"), ("locale", "locale")):
        if reference.get(field) is not None:
            activity[wire] = reference[field]
    if value is not None:
        activity["value"] = value
    return activity


def conversation_of(reference: Mapping[str, Any]) -> str:
    """The conversation key (`channelId/conversationId`) of a reference; raises `BadReference`."""
    activity = continuation_activity(reference)
    return conversation_key(activity["channelId"], activity["conversation"]["id"])


def _check_accounts(reference: Mapping[str, Any]) -> None:
    """`user` and `bot`, when given, bounded as an activity's `from` and `recipient` are."""
    for field in ("user", "bot"):
        account = reference.get(field)
        if account is None:
            continue
        account_id = account.get("id") if isinstance(account, Mapping) else None
        if not isinstance(account, Mapping) or (
            account_id is not None
            and (not isinstance(account_id, str) or len(account_id) > MAX_USER_ID_LENGTH)
        ):
            raise BadReference(
                f"{field} must be an object whose id is a string of at most "
                f"{MAX_USER_ID_LENGTH} characters"
            )


def activity_to_send(activity: object) -> bytes:
    """An operator's activity as JSON: an object, a message unless it says otherwise."""
    if not isinstance(activity, Mapping):
        raise BadReference("activity must be an object")
    doc = dict(activity)
    doc.setdefault("type", "message")
    if not isinstance(doc["type"], str) or not doc["type"]:
        raise BadReference("activity.type must be a non-empty string")
    return orjson.dumps(doc)


class ProactiveQueue:
    """Queues proactive turns and reads and counts fan-out progress."""

    def __init__(self, redis: Redis, keys: Keyspace, signer: EnvelopeSigner | None = None) -> None:
        self._redis = redis
        self._keys = keys
        self._signer = signer
        self._script = redis.register_script(ENQUEUE_SCRIPT)

    @property
    def client(self) -> Redis:
        """The client turns are queued with."""
        return self._redis

    enqueue_script = ENQUEUE_SCRIPT
    """The script `enqueue` runs (shared.protocol.chain), for a caller that runs it itself: a
    worker runs it inside the ownership fence of the turn that queues (worker.bot.adapter)."""

    def enqueue_call(
        self,
        reference: Mapping[str, Any],
        *,
        event: str | None = None,
        value: Any = None,
        send: bytes | None = None,
        callback: str | None = None,
    ) -> tuple[list[str], list[str | bytes | int]]:
        """KEYS and ARGV of `enqueue_script` for the turn `enqueue` would queue (one slot: the
        conversation's shard). Raises `BadReference`."""
        conversation, envelope = self._envelope(reference, event, value, send, callback, None)
        return _script_call(self._keys, conversation, envelope)

    async def enqueue(
        self,
        reference: Mapping[str, Any],
        *,
        event: str | None = None,
        value: Any = None,
        send: bytes | None = None,
        callback: str | None = None,
    ) -> str:
        """Queue one proactive turn; return its stream entry id. Raises `BadReference`."""
        keys, args = self.enqueue_call(
            reference, event=event, value=value, send=send, callback=callback
        )
        entry_id: Any = await self._script(keys=keys, args=args)
        return str(entry_id.decode() if isinstance(entry_id, bytes) else entry_id)

    async def fan_out(
        self,
        references: Sequence[Mapping[str, Any]],
        *,
        event: str | None = None,
        value: Any = None,
        send: bytes | None = None,
    ) -> tuple[str, int]:
        """Queue one turn per conversation as one job; return (job id, count). Every reference is
        checked before anything is queued. Raises `BadReference`."""
        if not 0 < len(references) <= MAX_REFERENCES:
            raise BadReference(f"give 1-{MAX_REFERENCES} conversation references")
        job = uuid.uuid4().hex
        envelopes = []
        for n, reference in enumerate(references):
            try:
                envelopes.append(self._envelope(reference, event, value, send, None, job))
            except BadReference as e:
                raise BadReference(f"conversation {n}: {e}") from None
        job_key = self._keys.proactive_job(job)
        await self._redis.hset(job_key, mapping={"total": len(envelopes), "created": time.time()})
        await self._redis.expire(job_key, JOB_TTL_SECONDS)
        for batch in _chunks(envelopes, _PIPELINE_SIZE):
            if is_cluster(self._redis):  # a cluster pipeline refuses scripts: concurrent calls
                calls = [_script_call(self._keys, c, e) for c, e in batch]
                await asyncio.gather(*(self._script(keys=k, args=a) for k, a in calls))
                await self._redis.hincrby(job_key, "queued", len(batch))
                continue
            async with self._redis.pipeline(transaction=False) as pipe:
                for conversation, envelope in batch:
                    keys, args = _script_call(self._keys, conversation, envelope)
                    await self._script(keys=keys, args=args, client=pipe)
                pipe.hincrby(job_key, "queued", len(batch))
                await pipe.execute()
        return job, len(envelopes)

    async def progress(self, job: str) -> Progress | None:
        """The job's progress, or None for an unknown (or expired) job."""
        if not job.isalnum() or len(job) > 64:
            return None
        raw: Any = await self._redis.hgetall(self._keys.proactive_job(job))
        if not raw:
            return None
        fields = {k.decode(): v for k, v in raw.items()}
        return Progress(
            total=int(fields.get("total", 0)),
            queued=int(fields.get("queued", 0)),
            done=int(fields.get("done", 0)),
            failed=int(fields.get("failed", 0)),
            teams_operation=_teams_operation(fields),
        )

    def _envelope(
        self,
        reference: Mapping[str, Any],
        event: str | None,
        value: Any,
        send: bytes | None,
        callback: str | None,
        job: str | None,
    ) -> tuple[str, bytes]:
        activity = continuation_activity(reference, event=event, value=value)
        conversation = conversation_key(activity["channelId"], activity["conversation"]["id"])
        try:
            body = orjson.dumps(activity)
        except TypeError as e:
            raise BadReference(f"value is not JSON: {e}") from None
        envelope = Envelope(
            body,
            conversation,
            time.time(),
            proactive=ProactiveTurn(job=job, send=send, callback=callback),
        )
        return conversation, envelope.encode(self._signer)


def _script_call(
    keys: Keyspace, conversation: str, envelope: bytes
) -> tuple[list[str], list[str | bytes | int]]:
    arguments = enqueue_arguments(keys, conversation, envelope)
    return [str(key) for key in arguments[:ENQUEUE_KEYS]], arguments[ENQUEUE_KEYS:]


def _chunks(items: list[tuple[str, bytes]], size: int) -> Iterable[list[tuple[str, bytes]]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]
