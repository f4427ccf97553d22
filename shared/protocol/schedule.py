"""Scheduled turns: a proactive turn that waits in Redis until its due time, then is queued in
its conversation's stream like any other (docs/scheduled-turns.md).

Each shard keeps its scheduled turns in its own slot (`Keyspace.due`, `.scheduled`,
`.schedule_keys`, beside its stream): a sorted set of schedule ids by due time, a hash of the
records, and a hash of the optional keys that make scheduling idempotent. Moving a due turn is
one script (`FIRE_SCRIPT`, in `shared.protocol.schedule_scripts`) that removes it from the
sorted set and appends it to the stream, chained after the conversation's last entry: only the
call whose ZREM removed the id queues the turn, so a due turn is queued exactly once however
many workers race for it. The records are
plain Redis data, so they live as long as the server's data does (AOF, replicas, failover).

The envelope is built when the turn is due, not when it was scheduled: its receipt time is the
time it was queued (the worker's queue-wait metric stays meaningful) and it is signed with the
secret of the day. A callback travels by name only (`module:qualname` or `bot:method`): a
scheduled turn may run long after the process that asked for it is gone.
"""

from __future__ import annotations

import logging
import math
import secrets
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import orjson

from shared.protocol.envelope import Envelope, ProactiveTurn
from shared.protocol.keys import Keyspace
from shared.protocol.proactive import BadReference, continuation_activity, conversation_of
from shared.protocol.schedule_scripts import CANCEL_SCRIPT, FIRE_SCRIPT, SCHEDULE_SCRIPT
from shared.protocol.signing import EnvelopeSigner
from shared.redis.connection import Redis, is_cluster

log = logging.getLogger(__name__)

MAX_DELAY_SECONDS = 366 * 86400
"""How far ahead a turn may be scheduled."""
MAX_KEY_LENGTH = 256
"""Bound on a scheduling key (characters)."""
FIRE_BATCH = 200
"""Due turns one shard moves per round trip (a backlog takes several)."""
LATE_SECONDS = 1.0
"""A turn queued more than this after its due time counts as late (`..._late_total`)."""


class BadSchedule(BadReference):
    """A turn that cannot be scheduled, or a schedule id or key that names nothing valid."""


@dataclass(frozen=True)
class ScheduledTurn:
    """One turn waiting for its due time."""

    id: str
    conversation: str
    due: float
    """Seconds since the epoch."""
    created: float
    key: str | None
    callback: str | None
    """The callback's name, or None: the bot's `on_turn` handles the event."""
    activity: dict[str, Any]
    """The event activity the turn runs on (its `name` and `value`)."""

    def to_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "conversation": self.conversation,
            "due": self.due,
            "created": self.created,
            "key": self.key,
            "callback": self.callback,
            "event": self.activity.get("name"),
            "value": self.activity.get("value"),
        }


@dataclass(frozen=True)
class FireRound:
    """What one look at some shards found: the lateness of each turn it queued (seconds past the
    due time), and the earliest due time still waiting there (None: nothing waits)."""

    lateness: list[float]
    next_due: float | None


def schedule_id(shard: int) -> str:
    """A new id: its shard, then a time-ordered part, so that turns due at the same millisecond
    fire in the order they were scheduled (a sorted set orders equal scores by member)."""
    return f"{shard}-{time.time_ns():016x}{secrets.token_hex(4)}"


def due_time(now: float, *, at: float | None = None, after: float | None = None) -> float:
    """The due time (epoch seconds) of `at` (epoch seconds) or `after` (seconds from `now`);
    exactly one of them. A time already past is due at once. Raises `BadSchedule`."""
    if (at is None) == (after is None):
        raise BadSchedule("give either at= or after=, not both and not neither")
    due = at if at is not None else now + (after or 0.0)
    if not isinstance(due, int | float) or not math.isfinite(due):
        raise BadSchedule("the due time must be a finite number of seconds")
    if due > now + MAX_DELAY_SECONDS:
        raise BadSchedule(f"a turn may be scheduled at most {MAX_DELAY_SECONDS} seconds ahead")
    return float(due)


class Schedule:
    """Schedules, lists and cancels turns; `fire_due` queues the ones that are due."""

    def __init__(self, redis: Redis, keys: Keyspace, signer: EnvelopeSigner | None = None) -> None:
        self._redis = redis
        self._keys = keys
        self._signer = signer
        self._schedule = redis.register_script(SCHEDULE_SCRIPT)
        self._cancel = redis.register_script(CANCEL_SCRIPT)
        self._fire = redis.register_script(FIRE_SCRIPT)

    @property
    def client(self) -> Redis:
        """The client scheduled turns are written with."""
        return self._redis

    schedule_script = SCHEDULE_SCRIPT
    cancel_script = CANCEL_SCRIPT
    """The scripts `schedule` and `cancel` run, for a caller that runs them itself: a worker
    runs them inside the ownership fence of the turn that schedules (worker.bot.adapter)."""

    # -- scheduling and cancelling -----------------------------------------------------------

    def schedule_call(
        self,
        reference: Mapping[str, Any],
        due: float,
        *,
        event: str | None = None,
        value: Any = None,
        callback: str | None = None,
        key: str | None = None,
    ) -> tuple[str, list[str], list[str | bytes | int]]:
        """The new id, and KEYS and ARGV of `schedule_script` for the turn `schedule` would
        schedule. Raises `BadSchedule` (or `BadReference` for the reference)."""
        continuation_activity(reference, event=event, value=value)  # checks all three
        conversation = conversation_of(reference)
        field = _key_field(conversation, key) if key is not None else ""
        shard = self._keys.shard_of(conversation)
        scheduled_id = schedule_id(shard)
        try:
            record = orjson.dumps(
                {
                    "c": conversation,
                    "r": dict(reference),
                    "e": event,
                    "v": value,
                    "cb": callback,
                    "f": field,
                    "d": round(due * 1000),
                    "t": round(time.time() * 1000),
                }
            )
        except TypeError as e:
            raise BadSchedule(f"value is not JSON: {e}") from None
        keys = self._shard_keys(shard)
        return scheduled_id, keys, [scheduled_id, round(due * 1000), record, field]

    async def schedule(
        self,
        reference: Mapping[str, Any],
        due: float,
        *,
        event: str | None = None,
        value: Any = None,
        callback: str | None = None,
        key: str | None = None,
    ) -> str:
        """Schedule a turn in `reference`'s conversation at `due` (epoch seconds); return its id.
        With `key`, a turn scheduled earlier with the same key in that conversation is replaced.
        Raises `BadSchedule`."""
        scheduled_id, keys, args = self.schedule_call(
            reference, due, event=event, value=value, callback=callback, key=key
        )
        await self._schedule(keys=keys, args=args)
        return scheduled_id

    def cancel_call(
        self,
        scheduled_id: str | None = None,
        *,
        conversation: str | None = None,
        key: str | None = None,
    ) -> tuple[list[str], list[str | bytes | int]]:
        """KEYS and ARGV of `cancel_script`: by id, or by conversation and key."""
        if scheduled_id is not None:
            shard = self.shard_of_id(scheduled_id)
            args: list[str | bytes | int] = [scheduled_id, ""]
        elif conversation is not None and key is not None:
            shard = self._keys.shard_of(conversation)
            args = ["", _key_field(conversation, key)]
        else:
            raise BadSchedule("cancel by id, or by conversation and key")
        keys = self._shard_keys(shard)
        return keys, args

    async def cancel(
        self,
        scheduled_id: str | None = None,
        *,
        conversation: str | None = None,
        key: str | None = None,
    ) -> bool:
        """Cancel a scheduled turn by id, or by conversation key (`channelId/conversationId`) and
        scheduling key; False if none was waiting. Raises `BadSchedule`."""
        keys, args = self.cancel_call(scheduled_id, conversation=conversation, key=key)
        return bool(await self._cancel(keys=keys, args=args))

    # -- reading -------------------------------------------------------------------------------

    def shard_of_id(self, scheduled_id: str) -> int:
        """The shard a schedule id lives on; raises `BadSchedule` for an id that is no id."""
        shard, dash, rest = scheduled_id.partition("-")
        if not (dash and shard.isdigit() and rest.isalnum() and len(rest) <= 64):
            raise BadSchedule(f"{scheduled_id!r} is not a schedule id")
        if int(shard) >= self._keys.shards:
            raise BadSchedule(f"{scheduled_id!r} names shard {shard} of {self._keys.shards}")
        return int(shard)

    async def get(self, scheduled_id: str) -> ScheduledTurn | None:
        """The turn waiting under `scheduled_id`, or None. Raises `BadSchedule`."""
        shard = self.shard_of_id(scheduled_id)
        raw: Any = await self._redis.hget(self._keys.scheduled(shard), scheduled_id)
        return _turn(scheduled_id, orjson.loads(raw)) if raw is not None else None

    async def waiting(
        self,
        *,
        conversation: str | None = None,
        shards: Sequence[int] | None = None,
        limit: int = 100,
    ) -> list[ScheduledTurn]:
        """The first `limit` waiting turns by due time: of one conversation, or of `shards`
        (default every shard)."""
        if conversation is not None:
            return (await self._of_conversation(conversation))[:limit]
        found: list[ScheduledTurn] = []
        for shard in range(self._keys.shards) if shards is None else shards:
            ids: Any = await self._redis.zrange(self._keys.due(shard), 0, limit - 1)
            if not ids:
                continue
            records: Any = await self._redis.hmget(self._keys.scheduled(shard), ids)
            found += [
                _turn(i.decode(), orjson.loads(raw))
                for i, raw in zip(ids, records, strict=True)
                if raw
            ]
        return sorted(found, key=lambda turn: (turn.due, turn.id))[:limit]

    async def _of_conversation(self, conversation: str) -> list[ScheduledTurn]:
        # One shard's records, filtered: listing a conversation is an operator's or a bot's
        # occasional question, not worth an index that every schedule and fire would update.
        found = []
        shard = self._keys.shard_of(conversation)
        async for name, raw in self._redis.hscan_iter(self._keys.scheduled(shard), count=500):
            record = orjson.loads(raw)
            if record["c"] == conversation:  # the others are only parsed, not made into turns
                found.append(_turn(name.decode(), record))
        return sorted(found, key=lambda turn: (turn.due, turn.id))

    async def counts(self, now: float) -> list[tuple[int, int]]:
        """Per shard: (turns waiting, of which due at `now` and not queued yet)."""
        async with self._redis.pipeline(transaction=False) as pipe:
            for shard in range(self._keys.shards):
                pipe.zcard(self._keys.due(shard))
                pipe.zcount(self._keys.due(shard), "-inf", round(now * 1000))
            answers: list[int] = await pipe.execute()
        return [(answers[i], answers[i + 1]) for i in range(0, len(answers), 2)]

    # -- firing --------------------------------------------------------------------------------

    async def fire_due(self, shards: Sequence[int], now: float, *, grace: float = 0.0) -> FireRound:
        """Queue every turn of `shards` due `grace` seconds before `now` or earlier, each in its
        conversation's stream (whoever else fires these shards meanwhile, each turn is queued
        once). Returns the lateness of those this call queued and the next due time there."""
        until = now - grace
        lateness: list[float] = []
        next_due: float | None = None
        for shard, earliest in zip(shards, await self._earliest(shards), strict=True):
            while earliest is not None and earliest <= until:
                fired, earliest, full = await self._fire_shard(shard, until)
                lateness += [time.time() - due for due in fired]
                if not full:
                    break
            if earliest is not None and (next_due is None or earliest < next_due):
                next_due = earliest
        return FireRound(lateness, next_due)

    async def _earliest(self, shards: Sequence[int]) -> list[float | None]:
        """The earliest due time of each shard (None: nothing waits), in one round trip: the
        look every watcher takes, whether anything is due or not."""
        if not shards:
            return []
        async with self._redis.pipeline(transaction=False) as pipe:
            for shard in shards:
                pipe.zrange(self._keys.due(shard), 0, 0, withscores=True)
            heads: list[Any] = await pipe.execute()
        return [head[0][1] / 1000 if head else None for head in heads]

    async def _fire_shard(self, shard: int, until: float) -> tuple[list[float], float | None, bool]:
        """Fire one batch of a shard: (due times of the turns queued, the next due time after
        the batch, whether the batch was full)."""
        due_key = self._keys.due(shard)
        head: Any = await self._redis.zrange(due_key, 0, FIRE_BATCH, withscores=True)
        due = [(member.decode(), score / 1000) for member, score in head if score <= until * 1000]
        later = next((score / 1000 for _, score in head if score > until * 1000), None)
        if not due:
            return [], later, False
        records: Any = await self._redis.hmget(self._keys.scheduled(shard), [i for i, _ in due])
        calls = [self._fire_call(shard, i, raw) for (i, _), raw in zip(due, records, strict=True)]
        if is_cluster(self._redis):  # a cluster pipeline refuses scripts; in order, one slot
            answers = [await self._fire(keys=k, args=a) for k, a in calls]
        else:
            async with self._redis.pipeline(transaction=False) as pipe:
                for keys, args in calls:
                    await self._fire(keys=keys, args=args, client=pipe)
                answers = await pipe.execute()
        fired = [when for (_, when), answer in zip(due, answers, strict=True) if answer]
        full = len(head) > FIRE_BATCH and later is None
        return fired, head[-1][1] / 1000 if full else later, full

    def _shard_keys(self, shard: int) -> list[str]:
        """The shard's due set, records and scheduling keys: the first KEYS of every script."""
        return [self._keys.due(shard), self._keys.scheduled(shard), self._keys.schedule_keys(shard)]

    def _fire_call(
        self, shard: int, scheduled_id: str, raw: bytes | None
    ) -> tuple[list[str], list[str | bytes | int]]:
        keys = self._shard_keys(shard)
        dropped = [*keys, self._keys.stream(shard), self._keys.last(shard, "-")]
        if raw is None:  # cancelled meanwhile (or an id without a record): the script drops it
            return dropped, [scheduled_id, b"", ""]
        record = orjson.loads(raw)
        try:
            activity = _activity(record)
        except BadReference as e:  # checked when scheduled: only a newer, stricter rule refuses
            log.error(
                "scheduled turn %s dropped: %s", scheduled_id, e, extra={"entry_id": scheduled_id}
            )
            return dropped, [scheduled_id, b"", record["f"]]
        envelope = Envelope(
            orjson.dumps(activity),
            record["c"],
            time.time(),
            proactive=ProactiveTurn(callback=record["cb"]),
        )
        return (
            [*keys, self._keys.stream(shard), self._keys.last(shard, record["c"])],
            [scheduled_id, envelope.encode(self._signer), record["f"]],
        )


def _key_field(conversation: str, key: str) -> str:
    if not isinstance(key, str) or not 0 < len(key) <= MAX_KEY_LENGTH or "\n" in key:
        raise BadSchedule(f"a scheduling key must be 1-{MAX_KEY_LENGTH} characters, no newline")
    return f"{conversation}\n{key}"


def _activity(record: dict[str, Any]) -> dict[str, Any]:
    """The turn's event activity, made from the record's reference when needed: kept once, the
    reference costs half what a stored activity (which repeats it in `relatesTo`) would."""
    return continuation_activity(record["r"], event=record["e"], value=record["v"])


def _turn(scheduled_id: str, record: dict[str, Any]) -> ScheduledTurn:
    field: str = record["f"]
    try:
        activity = _activity(record)
    except BadReference:  # a newer, stricter rule: listed as it is, dropped when due
        activity = {"type": "event", "name": record["e"], "value": record["v"]}
    return ScheduledTurn(
        id=scheduled_id,
        conversation=record["c"],
        due=record["d"] / 1000,
        created=record["t"] / 1000,
        key=field.rpartition("\n")[2] if field else None,
        callback=record["cb"],
        activity=activity,
    )
