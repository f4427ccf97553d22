"""The answer of a turn a gateway waits for (an invoke, expectReplies): made from the finished
turn and handed to the gateway through Redis (see `shared.answers`)."""

from __future__ import annotations

import dataclasses
import logging
from typing import Any

import orjson
from redis.exceptions import RedisClusterException, RedisError

from shared.activity import Activity
from shared.answers import ANSWER_TTL_SECONDS, EXPECT_REPLIES, Answer, publication
from shared.redisconn import Redis, is_cluster
from worker.bot.invoke import (
    BUFFERED_REPLIES_KEY,
    INVOKE_RESPONSE_KEY,
    TURN_FAILED_KEY,
    InvokeResponse,
)
from worker.bot.turn_context import TurnContext

log = logging.getLogger(__name__)


def answer_of(context: TurnContext) -> Answer:
    """expectReplies: 200 and the turn's replies, in order. An invoke: the bot's InvokeResponse;
    500 when the bot failed without giving one, 501 when it did not handle the invoke."""
    if context.activity.delivery_mode == EXPECT_REPLIES:
        replies = context.turn_state.get(BUFFERED_REPLIES_KEY, [])
        return Answer(200, orjson.dumps({"activities": replies}))
    sent = context.turn_state.get(INVOKE_RESPONSE_KEY)
    if sent is None:
        return Answer(500 if context.turn_state.get(TURN_FAILED_KEY) else 501)
    status, body = _invoke_response(sent)
    if body is None:
        return Answer(status)
    # Dataclasses through `_plain` too: orjson would write a Model's fields by their Python
    # names (and its additional_properties), not as the wire's camelCase.
    return Answer(
        status, orjson.dumps(body, default=_plain, option=orjson.OPT_PASSTHROUGH_DATACLASS)
    )


def _invoke_response(sent: Any) -> tuple[int, Any]:
    """The status and body of what the bot sent as its invokeResponse: an InvokeResponse in an
    activity's value (what ActivityHandler sends), or the same as a dict."""
    value = sent.value if isinstance(sent, Activity) else sent
    if isinstance(value, InvokeResponse):
        return value.status, value.body
    if isinstance(value, dict) and isinstance(value.get("status"), int):
        return value["status"], value.get("body")
    log.error("the bot's invokeResponse has no status: %r; answering 500", value)
    return 500, None


def _plain(value: Any) -> Any:
    """Models and dataclasses in an invoke body (cards, responses) as their wire-format dicts."""
    to_dict = getattr(value, "to_dict", None)
    if callable(to_dict):
        return to_dict()
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return dataclasses.asdict(value)
    raise TypeError(f"{type(value).__name__} is not JSON serializable")


class AnswerPublisher:
    """Stores an answer (a channel's retry of the request gets it) and publishes it to the
    gateways, in one round trip."""

    def __init__(self, redis: Redis, channel: str) -> None:
        self._redis = redis
        self._channel = channel

    async def publish(self, key: str, answer: Answer) -> None:
        """Never raises for Redis errors: the turn is done and committed; a gateway that does
        not hear the answer in time sends its fallback, which is logged there."""
        stored, published = answer.encode(), publication(key, answer)
        try:
            if is_cluster(self._redis):  # a cluster pipeline refuses PUBLISH (no slot)
                await self._redis.set(key, stored, ex=ANSWER_TTL_SECONDS)
                await self._redis.publish(self._channel, published)
                return
            async with self._redis.pipeline(transaction=False) as pipe:
                pipe.set(key, stored, ex=ANSWER_TTL_SECONDS)
                pipe.publish(self._channel, published)
                await pipe.execute()
        except (RedisError, RedisClusterException, OSError) as e:
            log.error("could not hand the answer %s to the gateway: %s", key, e)
