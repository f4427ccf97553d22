"""Wait for the answers of invokes and expectReplies turns (see `shared.protocol.answers`).

One subscription per gateway process and a future per waiting request: a thousand waiting
invokes cost a thousand dict entries, not a thousand connections or blocking calls.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging

from redis.exceptions import RedisClusterException, RedisError

from shared.backoff import Backoff
from shared.protocol.answers import Answer, AnswerError, read_publication
from shared.redis.connection import OutageLog, Redis, subscriber

log = logging.getLogger(__name__)

_POLL_SECONDS = 1.0
"""How long one wait for a publication lasts before the loop looks again (and notices a stop)."""


class Expected:
    """One request's place in line: create it before the activity is queued, so an answer
    published the moment the turn ends cannot be missed."""

    def __init__(self, answers: AnswerBoard, key: str) -> None:
        self._answers = answers
        self.key = key
        self.future: asyncio.Future[Answer] = asyncio.get_running_loop().create_future()

    async def result(self, within: float, *, stored: bool) -> Answer | None:
        """The answer, or None after `within` seconds. `stored`: the turn may have run already
        (a retried request), so look for its stored answer first."""
        try:
            if stored:
                answer = await self._answers.stored(self.key)
                if answer is not None:
                    return answer
            async with asyncio.timeout(within):
                return await self.future
        except TimeoutError:
            return None
        finally:
            self._answers.forget(self)


class Followed:
    """One `stream` request's events (`shared.protocol.answer_events`): `woken` is set when a
    worker appended some, and after the subscription came back (some may have been missed)."""

    def __init__(self, key: str) -> None:
        self.key = key
        self.woken = asyncio.Event()


class AnswerBoard:
    """Listens on the answers channel and hands each answer to the requests waiting for it."""

    def __init__(self, redis: Redis, channel: str) -> None:
        self._redis = redis
        self._channel = channel
        self._waiting: dict[str, set[Expected]] = {}
        self._following: dict[str, set[Followed]] = {}
        self._outage = OutageLog("Redis (gateway answers subscription)")
        self.subscribed = asyncio.Event()
        """Set while the subscription is live (tests wait for it)."""

    def expect(self, key: str) -> Expected:
        expected = Expected(self, key)
        self._waiting.setdefault(key, set()).add(expected)
        return expected

    def forget(self, expected: Expected) -> None:
        waiting = self._waiting.get(expected.key)
        if waiting is not None:
            waiting.discard(expected)
            if not waiting:
                del self._waiting[expected.key]

    def follow(self, key: str) -> Followed:
        """Follow the events under `key`, before the activity is queued (as `expect`)."""
        followed = Followed(key)
        self._following.setdefault(key, set()).add(followed)
        return followed

    def unfollow(self, followed: Followed) -> None:
        following = self._following.get(followed.key)
        if following is not None:
            following.discard(followed)
            if not following:
                del self._following[followed.key]

    @property
    def waiting(self) -> int:
        return sum(len(waiting) for waiting in self._waiting.values()) + sum(
            len(following) for following in self._following.values()
        )

    async def stored(self, key: str) -> Answer | None:
        """The answer kept for `key`, if its turn already ran (None on a Redis error: the
        subscription may still bring it)."""
        try:
            data = await self._redis.get(key)
        except (RedisError, RedisClusterException, OSError) as e:
            log.warning("could not read the stored answer %s: %s", key, e)
            return None
        return _decoded(key, data) if data is not None else None

    def _deliver(self, key: str, answer: Answer) -> None:
        for expected in self._waiting.pop(key, ()):
            if not expected.future.done():
                expected.future.set_result(answer)

    async def listen(self) -> None:
        """Keep the subscription up until cancelled (one of the gateway's background loops)."""
        delays = Backoff(first=0.1, cap=2.0)
        while not _cancel_requested():
            client: Redis | None = None
            pubsub = None
            try:
                client = await subscriber(self._redis)
                pubsub = client.pubsub()
                await pubsub.subscribe(self._channel)
                while not _cancel_requested():
                    message = await pubsub.get_message(timeout=_POLL_SECONDS)
                    if message is None:
                        continue
                    if message.get("type") == "message":
                        self._on_message(message["data"])
                    elif message.get("type") == "subscribe":
                        # The first subscription, or the client's own reconnection after a
                        # dropped connection (it subscribes again by itself): either way,
                        # answers published before it reached nobody here.
                        self.subscribed.set()
                        self._outage.succeeded()
                        delays.reset()
                        await self._catch_up()
            except (RedisError, RedisClusterException, OSError) as e:
                self.subscribed.clear()
                self._outage.failed(e)
            finally:
                with contextlib.suppress(Exception):
                    if pubsub is not None:
                        await pubsub.aclose()
                    if client is not None and client is not self._redis:
                        await client.aclose()
            await asyncio.sleep(delays.next())
        raise asyncio.CancelledError  # one a wait swallowed (see `_cancel_requested`)

    async def _catch_up(self) -> None:
        """Answers published while the subscription was down reached nobody: look them up.
        Followers read their events themselves, from the last one they relayed."""
        for following in self._following.values():
            for followed in following:
                followed.woken.set()
        keys = list(self._waiting)
        if not keys:
            return
        # GETs in a pipeline, not one MGET: on a cluster the keys live in many slots.
        async with self._redis.pipeline(transaction=False) as pipe:
            for key in keys:
                pipe.get(key)
            values = await pipe.execute()
        for key, data in zip(keys, values, strict=True):
            if data is not None:
                answer = _decoded(key, data)
                if answer is not None:
                    self._deliver(key, answer)

    def _on_message(self, data: bytes) -> None:
        try:
            key, answer = read_publication(data)
        except AnswerError as e:
            log.error("unreadable message on %s: %s", self._channel, e)
            return
        if answer is None:  # new events under `key`
            for followed in self._following.get(key, ()):
                followed.woken.set()
            return
        self._deliver(key, answer)  # nobody waiting (a late answer): dropped here, kept stored


def _cancel_requested() -> bool:
    """A cancellation that lands while redis-py's get_message waits with a timeout can be taken
    for that timeout and swallowed; the task still counts it as requested."""
    task = asyncio.current_task()
    return task is not None and task.cancelling() > 0


def _decoded(key: str, data: bytes | str) -> Answer | None:
    try:
        return Answer.decode(data.encode() if isinstance(data, str) else data)
    except AnswerError as e:
        log.error("unreadable answer under %s: %s", key, e)
        return None
