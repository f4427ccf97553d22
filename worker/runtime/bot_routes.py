"""The bot's own HTTP routes, worker side: publish the route table for the gateways, and run a
route request's turn — the handler, then its answer through the request/reply lane
(`shared.protocol.bot_routes`, `worker.bot.routes`)."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Sequence

import orjson

from shared.protocol.answers import Answer
from shared.protocol.bot_routes import RENEW_SECONDS, TABLE_TTL_SECONDS, encode_table
from shared.protocol.envelope import Envelope, RouteCall
from shared.protocol.keys import Keyspace
from shared.redis.connection import Redis
from worker.bot.adapter import ConnectorAdapter
from worker.bot.errors import TakenOver, is_transient
from worker.bot.routes import BotRoute, RouteRequest, RouteResponse
from worker.bot.turn_commit import TurnCommit
from worker.runtime.answer_publisher import AnswerPublisher
from worker.runtime.delivery.scripts import REDIS_FAILURES

log = logging.getLogger(__name__)

PUBLISH_SCRIPT = """
local now = tonumber(redis.call('TIME')[1])
redis.call('HSET', KEYS[1], ARGV[1], now .. ' ' .. ARGV[2])
local fields = redis.call('HGETALL', KEYS[1])
for i = 1, #fields, 2 do
  local at = tonumber(string.match(fields[i + 1], '^(%d+) '))
  if not at or at < now - tonumber(ARGV[3]) then
    redis.call('HDEL', KEYS[1], fields[i])
  end
end
return now
"""
"""KEYS: the route tables hash. ARGV: this consumer, its table (JSON), the table TTL in seconds.
Stamps the table with the server's clock (no two machines' clocks compared) and drops the
tables of workers that stopped renewing theirs."""


class RouteAnnouncer:
    """Keeps this worker's route table published while it runs: `run()` until cancelled,
    then `withdraw()`."""

    def __init__(
        self, redis: Redis, keys: Keyspace, consumer: str, routes: Sequence[BotRoute]
    ) -> None:
        self._redis = redis
        self._key = keys.bot_routes()
        self._consumer = consumer
        self._table = encode_table(route.declaration for route in routes)
        self._script = redis.register_script(PUBLISH_SCRIPT)

    async def publish(self) -> None:
        await self._script(keys=[self._key], args=[self._consumer, self._table, TABLE_TTL_SECONDS])

    async def run(self) -> None:
        while True:
            try:
                await self.publish()
            except REDIS_FAILURES as e:
                log.warning("could not publish the bot's routes (retrying): %s", e)
            await asyncio.sleep(RENEW_SECONDS)

    async def withdraw(self) -> None:
        try:
            await self._redis.hdel(self._key, self._consumer)
        except REDIS_FAILURES as e:
            log.warning("could not withdraw the bot's routes (they expire): %s", e)


class RouteRunner:
    """Runs the turn of a request to a bot route: the handler, then the answer."""

    def __init__(
        self,
        routes: Sequence[BotRoute],
        adapter: ConnectorAdapter,
        keys: Keyspace,
        answers: AnswerPublisher,
    ) -> None:
        self._routes = {route.path: route for route in routes}
        self._adapter = adapter
        self._keys = keys
        self._answers = answers

    async def run(self, envelope: Envelope, call: RouteCall, turn_commit: TurnCommit) -> None:
        answer = await self._answer(call, turn_commit)
        if envelope.request is not None:
            shard = self._keys.shard_of(envelope.conversation)
            key = self._keys.answer(shard, envelope.conversation, envelope.request)
            await self._answers.publish(key, answer)

    async def _answer(self, call: RouteCall, turn_commit: TurnCommit) -> Answer:
        route = self._routes.get(call.path)
        if route is None:  # a gateway read the table of a worker with other routes
            return _error(404, "not_found", f"this bot has no route {call.path}")
        if call.method not in route.declaration.methods:
            return _error(405, "method_not_allowed", f"{call.path} does not answer {call.method}")
        request = RouteRequest(
            call.method, call.path, call.query, call.headers, call.body, self._adapter
        )
        try:
            result = await self._adapter.run_route(route.handler, request, turn_commit)
            return RouteResponse.of(result).answer()
        except Exception as error:
            if isinstance(error, TakenOver) or turn_commit.fenced or is_transient(error):
                raise  # not the handler's fault: the entry runs again (or is another's now)
            log.exception("bot route %s %s failed", call.method, call.path)
            return _error(500, "bot_error", "the bot's route failed; its worker logged why")


def _error(status: int, code: str, message: str) -> Answer:
    return Answer(status, orjson.dumps({"error": code, "message": message}))
